package medmatch

import (
	"reflect"
	"time"
)

// Transition is one status change of an achievement or clinical need: the
// disclosure workflow's record of who moved it and when. The Store writes
// it; a client's history is ignored.
type Transition struct {
	From      Status    `json:"from,omitempty"` // "" when the record was created
	To        Status    `json:"to"`
	By        string    `json:"by,omitempty"`        // the key that made the change
	Principal string    `json:"principal,omitempty"` // who that key speaks for: staff, inst:NAME
	At        time.Time `json:"at"`
	Note      string    `json:"note,omitempty"` // the review note, when changes were requested
}

// MaxHistory bounds the transitions kept per record (the oldest go).
const MaxHistory = 100

// ValuationMethod is how an achievement was valued.
type ValuationMethod string

// Valuation methods.
const (
	ValuationCost   ValuationMethod = "cost"   // 成本法
	ValuationMarket ValuationMethod = "market" // 市场法
	ValuationIncome ValuationMethod = "income" // 收益法
	ValuationExpert ValuationMethod = "expert" // 专家评议
)

// ValuationMethods lists the methods.
var ValuationMethods = []ValuationMethod{ValuationCost, ValuationMarket, ValuationIncome, ValuationExpert}

// Valuation is an organizer's valuation of an achievement: the method, the
// range in 万元, the date and who valued it.
type Valuation struct {
	Method ValuationMethod `json:"method"`
	Min    float64         `json:"min"`
	Max    float64         `json:"max"`
	Date   string          `json:"date"` // YYYY-MM-DD
	By     string          `json:"by"`   // the valuer: an office, a firm, a committee
}

func (x *Valuation) validate(v *validator) {
	if x == nil {
		return
	}
	checkEnum(v, "valuation.method", x.Method, ValuationMethods, true)
	if x.Min < 0 || x.Max < 0 {
		v.add("valuation", "must not be negative")
	}
	if x.Max < x.Min {
		v.add("valuation.max", "must not be below min (%g < %g)", x.Max, x.Min)
	}
	if x.Max == 0 {
		v.add("valuation.max", "is required (万元)")
	}
	if !datePattern.MatchString(x.Date) {
		v.add("valuation.date", "must be a date like 2026-11-30")
	} else if _, err := time.Parse(time.DateOnly, x.Date); err != nil {
		v.add("valuation.date", "is not a calendar date")
	}
	text(v, "valuation.by", x.By, 100, true)
}

// workflow is what the disclosure workflow adds to a record kind.
type workflow interface {
	Record
	workflowState() (*Status, *[]Transition, *string)
}

func (a *Achievement) workflowState() (*Status, *[]Transition, *string) {
	return &a.Status, &a.History, &a.ReviewNote
}

func (n *ClinicalNeed) workflowState() (*Status, *[]Transition, *string) {
	return &n.Status, &n.History, &n.ReviewNote
}

// applyWorkflow keeps the stored history (a client cannot write it),
// appends a transition when the status changes, and checks the workflow's
// rules: changes are requested with a review note; only organizers value
// an achievement. old is nil for a new record.
func applyWorkflow(v Viewer, old, r Record, now time.Time) error {
	w, ok := r.(workflow)
	if !ok {
		return nil
	}
	status, history, note := w.workflowState()
	var from Status
	*history = nil
	if old != nil {
		ow := old.(workflow)
		os, oh, _ := ow.workflowState()
		from = *os
		*history = append([]Transition(nil), *oh...)
	}
	// A record created (or imported) in changes_requested keeps whatever
	// note it has; a review that moves a record there must say why.
	if *status == StatusChangesRequested && *note == "" && old != nil && from != StatusChangesRequested {
		return Errorf(EINVALID, "review_note", "say what to change: a review note is required to request changes")
	}
	if a, ok := r.(*Achievement); ok && !v.Staff() {
		var prev *Valuation
		if old != nil {
			prev = old.(*Achievement).Valuation
		}
		if !reflect.DeepEqual(prev, a.Valuation) {
			return Errorf(EFORBIDDEN, "valuation", "organizers record the valuation")
		}
	}
	if old == nil || from != *status {
		t := Transition{From: from, To: *status, By: v.KeyID, Principal: v.Owner(), At: now}
		if *status == StatusChangesRequested {
			t.Note = *note
		}
		*history = append(*history, t)
		if len(*history) > MaxHistory {
			*history = (*history)[len(*history)-MaxHistory:]
		}
	}
	return nil
}
