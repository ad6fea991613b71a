package medmatch

import (
	"fmt"
	"math"
	"reflect"
	"strings"
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

// Ownership says who owns an achievement and on what basis: the
// institution and named inventors (or a team) with shares summing to
// 100%, as ownership reform lets inventors hold part of a service
// invention.
type Ownership struct {
	Owners []Owner `json:"owners,omitempty"`
	// Basis is the rights basis: service (职务成果, the institution's),
	// empowerment (赋权: shares given to the inventors by agreement) or
	// non_service (非职务成果).
	Basis         RightsBasis `json:"basis,omitempty"`
	AgreementDate string      `json:"agreement_date,omitempty"` // of the 赋权 agreement, YYYY-MM-DD
	// Summary is what readers who see no detail get (set by Redact).
	Summary string `json:"summary,omitempty"`
}

// Owner is one owner and its share in percent.
type Owner struct {
	Name  string    `json:"name"`
	Role  OwnerRole `json:"role"`
	Share float64   `json:"share"`
}

// RightsBasis is the legal basis of an achievement's ownership.
type RightsBasis string

// Rights bases.
const (
	BasisService     RightsBasis = "service"     // 职务成果
	BasisEmpowerment RightsBasis = "empowerment" // 赋权
	BasisNonService  RightsBasis = "non_service" // 非职务成果
)

// RightsBases lists the bases.
var RightsBases = []RightsBasis{BasisService, BasisEmpowerment, BasisNonService}

// OwnerRole is what an owner is.
type OwnerRole string

// Owner roles.
const (
	OwnerInstitution OwnerRole = "institution"
	OwnerInventor    OwnerRole = "inventor"
	OwnerTeam        OwnerRole = "team"
)

// OwnerRoles lists the roles.
var OwnerRoles = []OwnerRole{OwnerInstitution, OwnerInventor, OwnerTeam}

func (o *Ownership) normalize() {
	if o == nil {
		return
	}
	o.Basis = normCode(o.Basis)
	trim(&o.AgreementDate)
	o.Summary = ""
	for i := range o.Owners {
		trim(&o.Owners[i].Name)
		o.Owners[i].Role = normCode(o.Owners[i].Role)
	}
}

func (o *Ownership) validate(v *validator) {
	if o == nil {
		return
	}
	if len(o.Owners) == 0 || len(o.Owners) > 50 {
		v.add("ownership.owners", "must list 1 to 50 owners")
	}
	total := 0.0
	for i, ow := range o.Owners {
		f := fmt.Sprintf("ownership.owners[%d]", i)
		text(v, f+".name", ow.Name, 100, true)
		checkEnum(v, f+".role", ow.Role, OwnerRoles, true)
		if ow.Share <= 0 || ow.Share > 100 {
			v.add(f+".share", "must be above 0 and at most 100 (percent)")
		}
		total += ow.Share
	}
	if len(o.Owners) > 0 && math.Abs(total-100) > 0.01 {
		v.add("ownership.owners", "shares sum to %g%%; they must sum to 100%%", math.Round(total*100)/100)
	}
	checkEnum(v, "ownership.basis", o.Basis, RightsBases, true)
	switch {
	case o.Basis == BasisEmpowerment && o.AgreementDate == "":
		v.add("ownership.agreement_date", "is required for empowerment (赋权): the date of the agreement")
	case o.AgreementDate != "" && !datePattern.MatchString(o.AgreementDate):
		v.add("ownership.agreement_date", "must be a date like 2026-03-01")
	case o.AgreementDate != "":
		if _, err := time.Parse(time.DateOnly, o.AgreementDate); err != nil {
			v.add("ownership.agreement_date", "is not a calendar date")
		}
	}
}

var basisNames = map[RightsBasis]string{BasisService: "职务成果", BasisEmpowerment: "赋权改革", BasisNonService: "非职务成果"}

// summary describes an ownership without names of people or shares.
func (o *Ownership) summary() string {
	var inst []string
	people, teams := 0, 0
	for _, ow := range o.Owners {
		switch ow.Role {
		case OwnerInstitution:
			inst = append(inst, ow.Name)
		case OwnerInventor:
			people++
		case OwnerTeam:
			teams++
		}
	}
	var parts []string
	if len(inst) > 0 {
		parts = append(parts, strings.Join(inst, "、"))
	}
	if people > 0 {
		parts = append(parts, fmt.Sprintf("%d 名发明人", people))
	}
	if teams > 0 {
		parts = append(parts, fmt.Sprintf("%d 个团队", teams))
	}
	s := strings.Join(parts, "与")
	if len(o.Owners) > 1 {
		s += "共有"
	} else {
		s += "所有"
	}
	if b := basisNames[o.Basis]; b != "" {
		s += "（" + b + "）"
	}
	return s
}

// Redact returns r as viewer v may see it. Readers who do not own an
// achievement or clinical need (owners: the institution and staff) do not
// see its review trail (history, review note) or its valuation, and see
// an ownership summary instead of the owners and their shares. r itself
// is not changed.
func Redact(v Viewer, r Record) Record {
	if r == nil || Owns(v, r) {
		return r
	}
	switch x := r.(type) {
	case *Achievement:
		if x.History == nil && x.ReviewNote == "" && x.Valuation == nil && x.Ownership == nil {
			return r
		}
		c := *x
		c.History, c.ReviewNote, c.Valuation = nil, "", nil
		if x.Ownership != nil {
			c.Ownership = &Ownership{Basis: x.Ownership.Basis, Summary: x.Ownership.summary()}
		}
		return &c
	case *ClinicalNeed:
		if x.History == nil && x.ReviewNote == "" {
			return r
		}
		c := *x
		c.History, c.ReviewNote = nil, ""
		return &c
	}
	return r
}
