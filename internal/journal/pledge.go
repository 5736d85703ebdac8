package journal

import (
	"strconv"
	"time"

	"github.com/truce-dev/truce/internal/truce"
)

// The commitments' kinds: a pledge as a change left it, a requirement, an
// activation of a contingent pledge (raised, then acknowledged), and a
// support record. Quantities are held to thousandths, euros to cents
// (truce.QuantityUnit, truce.EuroUnit).

func (w *writer) optStr(key, s string) {
	if s != "" {
		w.key(key)
		w.str(s)
	}
}

func (w *writer) pledge(p *truce.Pledge) {
	w.open()
	w.optStr("approval", p.Approval)
	w.key("capability")
	w.str(string(p.Capability))
	if c := &p.Caveat; c.Text != "" || len(c.Domains) > 0 || c.Within != "" {
		w.key("caveat")
		w.open()
		if len(c.Domains) > 0 {
			ds := make([]string, len(c.Domains))
			for i, d := range c.Domains {
				ds[i] = string(d)
			}
			w.key("domains")
			w.strs(ds)
		}
		w.optStr("text", c.Text)
		w.optStr("within", c.Within)
		w.close()
	}
	w.key("history")
	w.b = append(w.b, '[')
	for i, c := range p.History {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.open()
		w.optStr("by", c.By)
		w.key("date_us")
		w.time(c.Date)
		w.optStr("reference", c.Reference)
		w.key("stage")
		w.str(string(c.Stage))
		w.close()
	}
	w.b = append(w.b, ']')
	w.key("id")
	w.str(p.ID)
	w.key("marking")
	w.marking(p.Marking)
	w.key("nation")
	w.str(string(p.Nation))
	w.optStr("note", p.Note)
	w.key("quantity_e3")
	w.units(p.Quantity, truce.QuantityUnit)
	w.optStr("requirement", p.Requirement)
	w.key("stage")
	w.str(string(p.Stage))
	// A contingent pledge is one that names its trigger.
	w.optStr("trigger", p.Trigger)
	w.key("unit")
	w.str(p.Unit)
	w.key("version")
	w.int(int64(p.Version))
	w.close()
}

func (w *writer) requirement(r *truce.Requirement) {
	w.open()
	w.key("capability")
	w.str(string(r.Capability))
	w.optStr("domain", string(r.Domain))
	if !r.From.IsZero() {
		w.key("from_us")
		w.time(r.From)
	}
	w.key("id")
	w.str(r.ID)
	w.key("marking")
	w.marking(r.Marking)
	w.optStr("note", r.Note)
	w.key("quantity_e3")
	w.units(r.Quantity, truce.QuantityUnit)
	w.key("unit")
	w.str(r.Unit)
	w.key("version")
	w.int(int64(r.Version))
	w.optStr("where", r.Where)
	w.close()
}

func (w *writer) activation(a *truce.Activation) {
	w.open()
	w.optStr("ack_by", string(a.AckBy))
	if !a.AckAt.IsZero() {
		w.key("ack_us")
		w.time(a.AckAt)
	}
	w.key("at_us")
	w.time(a.At)
	w.key("due_us")
	w.time(a.Due)
	w.key("id")
	w.str(a.ID)
	w.key("nation")
	w.str(string(a.Nation))
	if !a.OverdueAt.IsZero() {
		w.key("overdue_us")
		w.time(a.OverdueAt)
	}
	w.key("pledge")
	w.str(a.Pledge)
	w.key("trigger")
	w.str(a.Trigger)
	w.close()
}

func (w *writer) support(s *truce.Support) {
	w.open()
	w.key("announced_us")
	w.time(s.Announced)
	w.key("delivered_e2")
	w.units(s.DeliveredEUR, truce.EuroUnit)
	w.key("donor")
	w.str(string(s.Donor))
	w.key("id")
	w.str(s.ID)
	w.key("item")
	w.str(s.Item)
	w.key("marking")
	w.marking(s.Marking)
	w.optStr("source", s.Source)
	w.key("stage")
	w.str(string(s.Stage))
	w.key("type")
	w.str(string(s.Type))
	w.key("value_e2")
	w.units(s.ValueEUR, truce.EuroUnit)
	w.close()
}

// The decoding side.

type wireMarking struct {
	RelTo []string `json:"rel_to"`
	TLP   string   `json:"tlp"`
}

func (m wireMarking) marking() truce.Marking {
	out := truce.Marking{TLP: truce.TLP(m.TLP)}
	for _, o := range m.RelTo {
		out.RelTo = append(out.RelTo, truce.OrgID(o))
	}
	return out
}

type wirePledge struct {
	Approval   string `json:"approval"`
	Capability string `json:"capability"`
	Caveat     *struct {
		Domains []string `json:"domains"`
		Text    string   `json:"text"`
		Within  string   `json:"within"`
	} `json:"caveat"`
	History []struct {
		By        string `json:"by"`
		Date      int64  `json:"date_us"`
		Reference string `json:"reference"`
		Stage     string `json:"stage"`
	} `json:"history"`
	ID          string      `json:"id"`
	Marking     wireMarking `json:"marking"`
	Nation      string      `json:"nation"`
	Note        string      `json:"note"`
	Quantity    int64       `json:"quantity_e3"`
	Requirement string      `json:"requirement"`
	Stage       string      `json:"stage"`
	Trigger     string      `json:"trigger"`
	Unit        string      `json:"unit"`
	Version     int64       `json:"version"`
}

func (v *wirePledge) pledge() *truce.Pledge {
	p := &truce.Pledge{ID: v.ID, Nation: truce.NationID(v.Nation), Capability: truce.Capability(v.Capability), Quantity: truce.FromUnits(v.Quantity, truce.QuantityUnit),
		Unit: v.Unit, Requirement: v.Requirement, Stage: truce.PledgeStage(v.Stage), Approval: v.Approval, Contingent: v.Trigger != "", Trigger: v.Trigger,
		Marking: v.Marking.marking(), Note: v.Note, Version: int(v.Version)}
	if c := v.Caveat; c != nil {
		p.Caveat = truce.PledgeCaveat{Text: c.Text, Within: c.Within}
		for _, d := range c.Domains {
			p.Caveat.Domains = append(p.Caveat.Domains, truce.Domain(d))
		}
	}
	for _, h := range v.History {
		p.History = append(p.History, truce.StageChange{Stage: truce.PledgeStage(h.Stage), Date: us(h.Date), By: h.By, Reference: h.Reference})
	}
	return p
}

type wireRequirement struct {
	Capability string      `json:"capability"`
	Domain     string      `json:"domain"`
	From       *int64      `json:"from_us"`
	ID         string      `json:"id"`
	Marking    wireMarking `json:"marking"`
	Note       string      `json:"note"`
	Quantity   int64       `json:"quantity_e3"`
	Unit       string      `json:"unit"`
	Version    int64       `json:"version"`
	Where      string      `json:"where"`
}

func (v *wireRequirement) requirement() *truce.Requirement {
	r := &truce.Requirement{ID: v.ID, Capability: truce.Capability(v.Capability), Quantity: truce.FromUnits(v.Quantity, truce.QuantityUnit), Unit: v.Unit,
		Domain: truce.Domain(v.Domain), Where: v.Where, Note: v.Note, Marking: v.Marking.marking(), Version: int(v.Version)}
	if v.From != nil {
		r.From = us(*v.From)
	}
	return r
}

type wireActivation struct {
	AckBy   string `json:"ack_by"`
	AckAt   *int64 `json:"ack_us"`
	At      int64  `json:"at_us"`
	Due     int64  `json:"due_us"`
	ID      string `json:"id"`
	Nation  string `json:"nation"`
	Overdue *int64 `json:"overdue_us"`
	Pledge  string `json:"pledge"`
	Trigger string `json:"trigger"`
}

func (v *wireActivation) activation() *truce.Activation {
	a := &truce.Activation{ID: v.ID, Pledge: v.Pledge, Nation: truce.NationID(v.Nation), Trigger: v.Trigger, At: us(v.At), Due: us(v.Due), AckBy: truce.OrgID(v.AckBy)}
	if v.AckAt != nil {
		a.AckAt = us(*v.AckAt)
	}
	if v.Overdue != nil {
		a.OverdueAt = us(*v.Overdue)
	}
	return a
}

type wireSupport struct {
	Announced int64       `json:"announced_us"`
	Delivered int64       `json:"delivered_e2"`
	Donor     string      `json:"donor"`
	ID        string      `json:"id"`
	Item      string      `json:"item"`
	Marking   wireMarking `json:"marking"`
	Source    string      `json:"source"`
	Stage     string      `json:"stage"`
	Type      string      `json:"type"`
	Value     int64       `json:"value_e2"`
}

func (v *wireSupport) support() *truce.Support {
	return &truce.Support{ID: v.ID, Donor: truce.NationID(v.Donor), Type: truce.SupportType(v.Type), Item: v.Item, ValueEUR: truce.FromUnits(v.Value, truce.EuroUnit),
		Announced: us(v.Announced), Stage: truce.SupportStage(v.Stage), DeliveredEUR: truce.FromUnits(v.Delivered, truce.EuroUnit), Source: v.Source, Marking: v.Marking.marking()}
}

// pledgeKey makes each version of a pledge its own entry.
func pledgeKey(p *truce.Pledge) Key { return derivedKey("pledge", p.ID, itoa(p.Version)) }

func requirementKey(r *truce.Requirement) Key {
	return derivedKey("requirement", r.ID, itoa(r.Version))
}

// activationKey: raised, found overdue and acknowledged, each once.
func activationKey(a *truce.Activation) Key {
	parts := []string{"activation", a.ID, a.AckAt.UTC().Format(time.RFC3339Nano)}
	if !a.OverdueAt.IsZero() {
		parts = append(parts, "overdue")
	}
	return derivedKey(parts...)
}

// supportKey: a record sent again unchanged is a duplicate.
func supportKey(s *truce.Support) Key {
	return derivedKey("support", s.ID, itoa(int(truce.Units(s.ValueEUR, truce.EuroUnit))), itoa(int(truce.Units(s.DeliveredEUR, truce.EuroUnit))), string(s.Stage), s.Item)
}

func itoa(n int) string { return strconv.Itoa(n) }
