DROP TABLE tokens;
DROP INDEX observations_time;
DROP TABLE observations;
DROP TABLE journal;
