package engine

import "github.com/truce-dev/truce/internal/truce"

// Agreement returns the agreement the engine judges by (its parties,
// sectors and escalation thresholds, for the API to show). Callers must
// not modify it.
func (e *Engine) Agreement() *truce.Agreement { return e.cfg.Agreement }
