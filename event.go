package medmatch

import (
	"fmt"
	"regexp"
	"time"
)

// Event is a roadshow (转化项目推介会): screened projects presented to
// invited enterprises, then one-on-one meetings in time slots at tables.
// Events are kept by the Store apart from the catalogue: they are not
// searched, and every write of an event bumps its version, so a re-plan
// never silently overwrites another organizer's edit.
type Event struct {
	ID        string    `json:"id"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	Title string `json:"title"`
	Theme string `json:"theme"` // what the projects should be about (matched like a demand)
	Date  string `json:"date"`  // YYYY-MM-DD
	Venue string `json:"venue,omitempty"`
	// Slots are the meeting slots in order; each has its own table count.
	Slots []Slot `json:"slots"`
	// Pool is the saved search the candidate projects come from.
	Pool SavedSearch `json:"pool"`
	// Projects is how many projects to present.
	Projects int      `json:"projects"`
	Pins     []string `json:"pins,omitempty"`     // achievement ids always presented
	Excludes []string `json:"excludes,omitempty"` // achievement ids never presented
	// Order is the presentation order: the presented projects listed here
	// come first, in this order; the others follow in the planner's order.
	Order []string `json:"order,omitempty"`
	// SpecialtyCap and InstitutionCap bound the presented projects per
	// specialty and per institution (0: no cap).
	SpecialtyCap   int          `json:"specialty_cap,omitempty"`
	InstitutionCap int          `json:"institution_cap,omitempty"`
	Invited        []Invitation `json:"invited"`
	// Rubric is the event's screening standard.
	Rubric Rubric `json:"rubric"`
	// Locked meetings stay where they are when the event is re-planned.
	Locked []LockedMeeting `json:"locked,omitempty"`
	// RequestTTL is how long a meeting request may wait for an answer
	// before it expires (e.g. "48h"; empty: never).
	RequestTTL string `json:"request_ttl,omitempty"`
	Status     string `json:"status"` // draft, published, closed
}

// Rubric is a screening standard (统一筛选标准): hard filters every
// presented project must pass, and weights of the soft criteria (see
// RubricCriteria) that make its rubric score.
type Rubric struct {
	MinMaturity Maturity           `json:"min_maturity,omitempty"`
	IPStatuses  []IPStatus         `json:"ip_statuses,omitempty"` // allowed IP statuses; empty: any
	Weights     map[string]float64 `json:"weights,omitempty"`     // criterion → weight ≥ 0; empty: DefaultRubricWeights
}

// Soft criteria of a rubric.
const (
	CriterionClinicalValue = "clinical_value" // how well it answers published clinical needs
	CriterionMaturity      = "maturity"       // stage on the maturity ladder
	CriterionIP            = "ip_strength"    // granted invention patents count most
	CriterionTeam          = "team"           // a named team behind it
	CriterionPriceFit      = "price_fit"      // its price against the invited enterprises' budgets
)

// RubricCriteria lists the soft criteria.
var RubricCriteria = []string{CriterionClinicalValue, CriterionMaturity, CriterionIP, CriterionTeam, CriterionPriceFit}

// DefaultRubricWeights weigh the soft criteria when an event gives none.
var DefaultRubricWeights = map[string]float64{CriterionClinicalValue: 0.3, CriterionMaturity: 0.2, CriterionIP: 0.2, CriterionTeam: 0.1, CriterionPriceFit: 0.2}

func (r *Rubric) validate(v *validator) {
	checkEnum(v, "rubric.min_maturity", r.MinMaturity, Maturities, false)
	checkEnums(v, "rubric.ip_statuses", r.IPStatuses, IPStatuses)
	total := 0.0
	for name, w := range r.Weights {
		known := false
		for _, c := range RubricCriteria {
			known = known || c == name
		}
		if !known {
			v.add("rubric.weights."+name, "is not a criterion (want %v)", RubricCriteria)
		}
		if w < 0 || w > 100 {
			v.add("rubric.weights."+name, "must be between 0 and 100")
		}
		total += w
	}
	if len(r.Weights) > 0 && total == 0 {
		v.add("rubric.weights", "at least one weight must be above 0")
	}
}

// Slot is one meeting slot.
type Slot struct {
	Start   string `json:"start"`   // HH:MM
	Minutes int    `json:"minutes"` // meeting length
	Tables  int    `json:"tables"`
}

// SavedSearch is a search kept with an event: query text and filters as
// the search API takes them.
type SavedSearch struct {
	Query   string              `json:"query,omitempty"`
	Filters map[string][]string `json:"filters,omitempty"`
}

// Invitation is one invited enterprise: when it can meet, how many
// meetings it wants, and the meetings it asked for.
type Invitation struct {
	EnterpriseID string `json:"enterprise_id"`
	Registered   bool   `json:"registered,omitempty"`
	// Available lists the slots (0-based) the enterprise can meet in;
	// empty means every slot.
	Available []int            `json:"available,omitempty"`
	Quota     int              `json:"quota"` // most meetings; default 3
	Requests  []MeetingRequest `json:"requests,omitempty"`
}

// LockedMeeting is a meeting an organizer fixed in a slot at a table.
type LockedMeeting struct {
	EnterpriseID  string `json:"enterprise_id"`
	AchievementID string `json:"achievement_id"`
	Slot          int    `json:"slot"`  // 0-based
	Table         int    `json:"table"` // 1-based
}

// MeetingRequest is an enterprise asking to meet a project's team.
type MeetingRequest struct {
	AchievementID string    `json:"achievement_id"`
	Status        string    `json:"status"` // pending, accepted, rejected, expired
	At            time.Time `json:"at"`
}

// Event statuses and request statuses.
const (
	EventDraft     = "draft"
	EventPublished = "published"
	EventClosed    = "closed"

	RequestPending  = "pending"
	RequestAccepted = "accepted"
	RequestRejected = "rejected"
	RequestExpired  = "expired"
)

// DefaultQuota is an invitation's meeting quota when none is given.
const DefaultQuota = 3

var (
	datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	hhmm        = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)
)

// Normalize fills defaults: status draft, quotas.
func (e *Event) Normalize() {
	trim(&e.ID, &e.Title, &e.Theme, &e.Date, &e.Venue, &e.Status, &e.RequestTTL)
	e.Rubric.MinMaturity = normCode(e.Rubric.MinMaturity)
	e.Rubric.IPStatuses = normCodes(e.Rubric.IPStatuses)
	if e.Status == "" {
		e.Status = EventDraft
	}
	for i := range e.Invited {
		if e.Invited[i].Quota == 0 {
			e.Invited[i].Quota = DefaultQuota
		}
		for j := range e.Invited[i].Requests {
			if e.Invited[i].Requests[j].Status == "" {
				e.Invited[i].Requests[j].Status = RequestPending
			}
		}
	}
}

// Validate checks every field, naming each bad one.
func (e *Event) Validate() error {
	var v validator
	if e.ID != "" && !ValidID(e.ID) {
		v.add("id", "must be 1-64 letters, digits, '-', '_' or '.'")
	}
	text(&v, "title", e.Title, 200, true)
	text(&v, "theme", e.Theme, 5000, true)
	if !datePattern.MatchString(e.Date) {
		v.add("date", "must be a date like 2026-12-01")
	} else if _, err := time.Parse(time.DateOnly, e.Date); err != nil {
		v.add("date", "is not a calendar date")
	}
	text(&v, "venue", e.Venue, 200, false)
	if len(e.Slots) == 0 || len(e.Slots) > 48 {
		v.add("slots", "must hold 1 to 48 slots")
	}
	prevEnd := -1
	for i, s := range e.Slots {
		f := fmt.Sprintf("slots[%d]", i)
		if !hhmm.MatchString(s.Start) {
			v.add(f+".start", "must be a time like 09:30")
			continue
		}
		if s.Minutes < 5 || s.Minutes > 240 {
			v.add(f+".minutes", "must be between 5 and 240")
		}
		if s.Tables < 0 || s.Tables > 500 {
			v.add(f+".tables", "must be between 0 and 500")
		}
		start := minutesOf(s.Start)
		if start < prevEnd {
			v.add(f+".start", "overlaps the slot before it")
		}
		prevEnd = start + s.Minutes
	}
	text(&v, "pool.query", e.Pool.Query, 500, false)
	if e.Projects < 1 || e.Projects > 100 {
		v.add("projects", "must be between 1 and 100")
	}
	items(&v, "pins", e.Pins, 100)
	items(&v, "excludes", e.Excludes, 1000)
	items(&v, "order", e.Order, 100)
	for _, p := range e.Pins {
		for _, x := range e.Excludes {
			if p == x {
				v.add("pins", "%q is both pinned and excluded", p)
			}
		}
	}
	if e.SpecialtyCap < 0 {
		v.add("specialty_cap", "must not be negative")
	}
	if e.InstitutionCap < 0 {
		v.add("institution_cap", "must not be negative")
	}
	if e.RequestTTL != "" {
		if d, err := time.ParseDuration(e.RequestTTL); err != nil || d <= 0 {
			v.add("request_ttl", "must be a duration like 48h")
		}
	}
	e.Rubric.validate(&v)
	for i, l := range e.Locked {
		f := fmt.Sprintf("locked[%d]", i)
		switch {
		case e.Invitation(l.EnterpriseID) == nil:
			v.add(f+".enterprise_id", "%q is not invited", l.EnterpriseID)
		case !ValidID(l.AchievementID):
			v.add(f+".achievement_id", "is required and must be a valid id")
		case l.Slot < 0 || l.Slot >= len(e.Slots):
			v.add(f+".slot", "is slot %d; the event has slots 0-%d", l.Slot, len(e.Slots)-1)
		case l.Table < 1 || l.Table > e.Slots[l.Slot].Tables:
			v.add(f+".table", "is table %d; slot %d has tables 1-%d", l.Table, l.Slot, e.Slots[l.Slot].Tables)
		}
	}
	switch e.Status {
	case EventDraft, EventPublished, EventClosed:
	default:
		v.add("status", "must be draft, published or closed")
	}
	if len(e.Invited) > 2000 {
		v.add("invited", "at most 2000 enterprises")
	}
	seen := map[string]bool{}
	for i, inv := range e.Invited {
		f := fmt.Sprintf("invited[%d]", i)
		if !ValidID(inv.EnterpriseID) {
			v.add(f+".enterprise_id", "is required and must be a valid id")
		} else if seen[inv.EnterpriseID] {
			v.add(f+".enterprise_id", "%q is invited twice", inv.EnterpriseID)
		}
		seen[inv.EnterpriseID] = true
		for j, s := range inv.Available {
			if s < 0 || s >= len(e.Slots) {
				v.add(fmt.Sprintf("%s.available[%d]", f, j), "is slot %d; the event has slots 0-%d", s, len(e.Slots)-1)
			}
		}
		if inv.Quota < 0 || inv.Quota > 48 {
			v.add(f+".quota", "must be between 0 and 48")
		}
		asked := map[string]bool{}
		for j, r := range inv.Requests {
			rf := fmt.Sprintf("%s.requests[%d]", f, j)
			if !ValidID(r.AchievementID) {
				v.add(rf+".achievement_id", "is required and must be a valid id")
			} else if asked[r.AchievementID] {
				v.add(rf+".achievement_id", "%q is requested twice", r.AchievementID)
			}
			asked[r.AchievementID] = true
			switch r.Status {
			case RequestPending, RequestAccepted, RequestRejected, RequestExpired:
			default:
				v.add(rf+".status", "must be pending, accepted, rejected or expired")
			}
		}
	}
	return v.err()
}

func minutesOf(hm string) int {
	var h, m int
	fmt.Sscanf(hm, "%d:%d", &h, &m)
	return h*60 + m
}

// Invitation returns the invitation of enterprise id, or nil.
func (e *Event) Invitation(id string) *Invitation {
	for i := range e.Invited {
		if e.Invited[i].EnterpriseID == id {
			return &e.Invited[i]
		}
	}
	return nil
}

// CanReadEvent: staff read every event; an enterprise reads the published
// events it is invited to.
func CanReadEvent(v Viewer, e *Event) bool {
	if v.Staff() {
		return true
	}
	return v.Role == RoleEnterprise && e.Status != EventDraft && e.Invitation(v.Enterprise) != nil
}

// CanWriteEvent returns nil when v may replace old with new (old nil:
// create). Staff write everything; an enterprise may change only its own
// invitation of a published event — register, availability, quota and its
// requests, which it may add or withdraw but not accept or reject.
func CanWriteEvent(v Viewer, old, new *Event) error {
	if v.Anonymous() {
		return Errorf(EUNAUTHORIZED, "", "sign in or send an API key to change an event")
	}
	if v.Staff() {
		return nil
	}
	if v.Role != RoleEnterprise || old == nil || !CanReadEvent(v, old) {
		return Errorf(EFORBIDDEN, "", "only organizers create and edit events")
	}
	if old.Status != EventPublished {
		return Errorf(EFORBIDDEN, "status", "the event is %s; registration is closed", old.Status)
	}
	strip := func(e *Event) Event {
		c := *e
		c.Invited = nil
		for _, inv := range e.Invited {
			if inv.EnterpriseID != v.Enterprise {
				c.Invited = append(c.Invited, inv)
			}
		}
		c.Version, c.UpdatedAt, c.CreatedAt = 0, time.Time{}, time.Time{}
		return c
	}
	a, b := strip(old), strip(new)
	if !sameJSON(a, b) {
		return Errorf(EFORBIDDEN, "invited", "an enterprise changes only its own invitation")
	}
	mine := new.Invitation(v.Enterprise)
	if mine == nil {
		return Errorf(EFORBIDDEN, "invited", "an enterprise cannot withdraw its invitation; ask the organizers")
	}
	before := map[string]string{}
	if o := old.Invitation(v.Enterprise); o != nil {
		for _, r := range o.Requests {
			before[r.AchievementID] = r.Status
		}
	}
	for i, r := range mine.Requests {
		if was, ok := before[r.AchievementID]; (ok && r.Status != was) || (!ok && r.Status != RequestPending) {
			return Errorf(EFORBIDDEN, fmt.Sprintf("requests[%d].status", i), "organizers accept and reject requests")
		}
	}
	return nil
}

// PrepareEventWrite runs the checks of Store.PutEvent, the same in every
// Store, against old, the stored event with e's id (nil if none): an
// event v may not read counts as absent; a new event has Version 0 and a
// replacement the stored version; CanWriteEvent; the invited enterprises
// and the requested, pinned and locked achievements exist. Then it sets
// e's id (generated if empty), version and timestamps. e must be
// normalised and valid.
func PrepareEventWrite(v Viewer, old, e *Event, exists func(k Kind, id string) (bool, error), now time.Time) error {
	if old != nil && !CanReadEvent(v, old) {
		old = nil // as if absent: its existence does not leak
	}
	switch {
	case old == nil && e.Version > 0:
		return Errorf(ENOTFOUND, "id", "no event %q", e.ID)
	case old != nil && e.Version == 0:
		return Errorf(ECONFLICT, "id", "event %q exists; send its version to replace it", e.ID)
	case old != nil && e.Version != old.Version:
		return Errorf(ECONFLICT, "version", "event %q is at version %d, not %d: reload and retry", e.ID, old.Version, e.Version)
	}
	if err := CanWriteEvent(v, old, e); err != nil {
		return err
	}
	check := func(k Kind, id, field string) error {
		ok, err := exists(k, id)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(EINVALID, field, "no %s %q", k, id)
		}
		return nil
	}
	for i, inv := range e.Invited {
		if err := check(KindEnterprise, inv.EnterpriseID, fmt.Sprintf("invited[%d].enterprise_id", i)); err != nil {
			return err
		}
		for j, r := range inv.Requests {
			if err := check(KindAchievement, r.AchievementID, fmt.Sprintf("invited[%d].requests[%d].achievement_id", i, j)); err != nil {
				return err
			}
		}
	}
	for i, id := range e.Pins {
		if err := check(KindAchievement, id, fmt.Sprintf("pins[%d]", i)); err != nil {
			return err
		}
	}
	for i, l := range e.Locked {
		if err := check(KindAchievement, l.AchievementID, fmt.Sprintf("locked[%d].achievement_id", i)); err != nil {
			return err
		}
	}
	now = now.UTC()
	if old == nil {
		if e.ID == "" {
			e.ID = NewEventID(now)
		}
		e.CreatedAt = now
	} else {
		e.CreatedAt = old.CreatedAt
	}
	e.Version++
	e.UpdatedAt = now
	return nil
}
