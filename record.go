package medmatch

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Principals used in audiences. A record's Audience always holds
// PrincipalStaff (organizers and admins read everything), and PrincipalPublic
// when anyone may read it; owners are "inst:NAME" and "ent:ID".
const (
	PrincipalPublic = "public"
	PrincipalStaff  = "staff"
)

// InstitutionPrincipal is the principal of users bound to institution name.
func InstitutionPrincipal(name string) string { return "inst:" + name }

// EnterprisePrincipal is the principal of users bound to enterprise id.
func EnterprisePrincipal(id string) string { return "ent:" + id }

// Price is an asking price or a budget in 万元 (10,000 yuan). Min and Max
// are optional (0 = not given); Negotiable marks 面议. A price with neither
// bound nor Negotiable is treated as absent.
type Price struct {
	Min        float64 `json:"min,omitempty"`
	Max        float64 `json:"max,omitempty"`
	Negotiable bool    `json:"negotiable,omitempty"`
}

func (p *Price) empty() bool { return p == nil || (p.Min == 0 && p.Max == 0 && !p.Negotiable) }

func (p *Price) validate(v *validator, field string) {
	if p == nil {
		return
	}
	if p.Min < 0 {
		v.add(field+".min", "must not be negative")
	}
	if p.Max < 0 {
		v.add(field+".max", "must not be negative")
	}
	if p.Min > 0 && p.Max > 0 && p.Min > p.Max {
		v.add(field+".max", "must not be below min (%g > %g)", p.Min, p.Max)
	}
	if p.Min > 1e7 || p.Max > 1e7 {
		v.add(field, "is above 10,000,000 万元; give the amount in 万元")
	}
}

// IP describes the intellectual property protecting an achievement.
type IP struct {
	Type    IPType   `json:"type,omitempty"`
	Status  IPStatus `json:"status,omitempty"` // default none
	Numbers []string `json:"numbers,omitempty"`
}

func (ip *IP) normalize() {
	ip.Type = normCode(ip.Type)
	ip.Status = normCode(ip.Status)
	ip.Numbers = normStrings(ip.Numbers)
	if ip.Status == "" {
		ip.Status = IPNone
	}
}

func (ip *IP) validate(v *validator) {
	checkEnum(v, "ip.type", ip.Type, IPTypes, ip.Status != IPNone)
	checkEnum(v, "ip.status", ip.Status, IPStatuses, true)
	if ip.Status == IPNone && len(ip.Numbers) > 0 {
		v.add("ip.status", "is none but numbers are given; use filed or granted")
	}
	items(v, "ip.numbers", ip.Numbers, 64)
}

// Achievement is a 科技成果: an invention, patent, prototype, drug candidate
// or software offered for transfer by a hospital, university or institute.
//
// Required: title, description, institution, specialty, fields (≥ 1),
// maturity. Defaults: status published when an organizer or admin writes it
// and draft when an institution does; visibility public; ip.status none.
type Achievement struct {
	Meta
	Title         string         `json:"title"`
	Summary       string         `json:"summary,omitempty"`
	Description   string         `json:"description"`
	Institution   string         `json:"institution"`
	Team          []string       `json:"team,omitempty"`
	Specialty     string         `json:"specialty"`
	Fields        []string       `json:"fields"`
	Maturity      Maturity       `json:"maturity"`
	IP            *IP            `json:"ip,omitempty"`
	TransferModes []TransferMode `json:"transfer_modes,omitempty"`
	Price         *Price         `json:"price,omitempty"`
	Region        string         `json:"region,omitempty"`
	Broker        string         `json:"broker,omitempty"`
	Status        Status         `json:"status"`
	Visibility    Visibility     `json:"visibility"`
	// Valuation is the organizers' valuation (the disclosure workflow).
	Valuation *Valuation `json:"valuation,omitempty"`
	// Ownership: owners, shares and rights basis (organizers and the
	// institution see it whole, other readers a summary).
	Ownership *Ownership `json:"ownership,omitempty"`
	// ReviewNote is the organizers' note to the institution, required
	// when they request changes.
	ReviewNote string `json:"review_note,omitempty"`
	// History lists the status changes, written by the Store.
	History []Transition `json:"history,omitempty"`
}

// Kind implements Record.
func (a *Achievement) Kind() Kind { return KindAchievement }

// Audience implements Record: staff and the owning institution always; the
// public when the achievement is listed and public.
func (a *Achievement) Audience() []string {
	return listedAudience(a.Status, a.Visibility, InstitutionPrincipal(a.Institution))
}

func listedAudience(s Status, vis Visibility, owner string) []string {
	aud := []string{PrincipalStaff, owner}
	if s.Listed() && vis == VisibilityPublic {
		aud = append(aud, PrincipalPublic)
	}
	return aud
}

// Normalize implements Record.
func (a *Achievement) Normalize(t *Taxonomy) {
	a.Meta.normalize()
	trim(&a.Title, &a.Summary, &a.Description, &a.Institution, &a.Region, &a.Broker, &a.ReviewNote)
	if a.Valuation != nil {
		a.Valuation.Method = normCode(a.Valuation.Method)
		trim(&a.Valuation.Date, &a.Valuation.By)
	}
	a.Ownership.normalize()
	a.Team = normStrings(a.Team)
	a.Specialty = canonical(t.Specialties, a.Specialty)
	a.Fields = canonicalList(t.Fields, a.Fields)
	a.Maturity = normCode(a.Maturity)
	a.TransferModes = normCodes(a.TransferModes)
	a.Status = normCode(a.Status)
	a.Visibility = normCode(a.Visibility)
	if a.Visibility == "" {
		a.Visibility = VisibilityPublic
	}
	if a.IP != nil {
		a.IP.normalize()
		if a.IP.Type == "" && a.IP.Status == IPNone && len(a.IP.Numbers) == 0 {
			a.IP = nil
		}
	}
	if a.Price.empty() {
		a.Price = nil
	}
}

// Validate implements Record.
func (a *Achievement) Validate(t *Taxonomy) error {
	var v validator
	a.Meta.validate(&v)
	text(&v, "title", a.Title, 200, true)
	text(&v, "summary", a.Summary, 1000, false)
	text(&v, "description", a.Description, 20000, true)
	text(&v, "institution", a.Institution, 100, true)
	items(&v, "team", a.Team, 100)
	checkLabel(&v, t.Specialties, "specialty", a.Specialty, true)
	checkLabels(&v, t.Fields, "fields", a.Fields, 1)
	checkEnum(&v, "maturity", a.Maturity, Maturities, true)
	if a.IP != nil {
		a.IP.validate(&v)
	}
	checkEnums(&v, "transfer_modes", a.TransferModes, TransferModes)
	a.Price.validate(&v, "price")
	text(&v, "region", a.Region, 50, false)
	text(&v, "broker", a.Broker, 100, false)
	checkEnum(&v, "status", a.Status, Statuses, true)
	checkEnum(&v, "visibility", a.Visibility, Visibilities, true)
	a.Valuation.validate(&v)
	a.Ownership.validate(&v)
	text(&v, "review_note", a.ReviewNote, 2000, false)
	return v.err()
}

// Text implements Record.
func (a *Achievement) Text() []Field {
	return []Field{{"title", a.Title}, {"summary", a.Summary}, {"description", a.Description},
		{"institution", a.Institution}, {"team", strings.Join(a.Team, "；")}}
}

// ClinicalNeed is a 临床需求: an unmet clinical problem described by a
// hospital department. Required: title, hospital, specialty, fields (≥ 1),
// problem. Defaults as for Achievement (status, visibility).
type ClinicalNeed struct {
	Meta
	Title           string     `json:"title"`
	Hospital        string     `json:"hospital"`
	Department      string     `json:"department,omitempty"`
	Specialty       string     `json:"specialty"`
	Fields          []string   `json:"fields"`
	Problem         string     `json:"problem"`
	CurrentPractice string     `json:"current_practice,omitempty"`
	DesiredOutcome  string     `json:"desired_outcome,omitempty"`
	Region          string     `json:"region,omitempty"`
	Status          Status     `json:"status"`
	Visibility      Visibility `json:"visibility"`
	// ReviewNote and History as for Achievement.
	ReviewNote string       `json:"review_note,omitempty"`
	History    []Transition `json:"history,omitempty"`
}

// Kind implements Record.
func (n *ClinicalNeed) Kind() Kind { return KindNeed }

// Audience implements Record; the hospital owns the need.
func (n *ClinicalNeed) Audience() []string {
	return listedAudience(n.Status, n.Visibility, InstitutionPrincipal(n.Hospital))
}

// Normalize implements Record.
func (n *ClinicalNeed) Normalize(t *Taxonomy) {
	n.Meta.normalize()
	trim(&n.Title, &n.Hospital, &n.Department, &n.Specialty, &n.Problem, &n.CurrentPractice, &n.DesiredOutcome, &n.Region, &n.ReviewNote)
	if n.Specialty == "" && n.Department != "" {
		if l, ok := t.Specialties.Canonical(n.Department); ok {
			n.Specialty = l
		}
	}
	n.Specialty = canonical(t.Specialties, n.Specialty)
	n.Fields = canonicalList(t.Fields, n.Fields)
	n.Status = normCode(n.Status)
	n.Visibility = normCode(n.Visibility)
	if n.Visibility == "" {
		n.Visibility = VisibilityPublic
	}
}

// Validate implements Record.
func (n *ClinicalNeed) Validate(t *Taxonomy) error {
	var v validator
	n.Meta.validate(&v)
	text(&v, "title", n.Title, 200, true)
	text(&v, "hospital", n.Hospital, 100, true)
	text(&v, "department", n.Department, 50, false)
	checkLabel(&v, t.Specialties, "specialty", n.Specialty, true)
	checkLabels(&v, t.Fields, "fields", n.Fields, 1)
	text(&v, "problem", n.Problem, 5000, true)
	text(&v, "current_practice", n.CurrentPractice, 5000, false)
	text(&v, "desired_outcome", n.DesiredOutcome, 5000, false)
	text(&v, "region", n.Region, 50, false)
	checkEnum(&v, "status", n.Status, Statuses, true)
	checkEnum(&v, "visibility", n.Visibility, Visibilities, true)
	text(&v, "review_note", n.ReviewNote, 2000, false)
	return v.err()
}

// Text implements Record.
func (n *ClinicalNeed) Text() []Field {
	return []Field{{"title", n.Title}, {"problem", n.Problem}, {"current_practice", n.CurrentPractice},
		{"desired_outcome", n.DesiredOutcome}, {"hospital", n.Hospital}, {"department", n.Department}}
}

// Team is a 研发团队 or laboratory able to engineer a solution: the
// engineering partner in 医工结合. Required: name, institution, expertise.
type Team struct {
	Meta
	Name        string   `json:"name"`
	Institution string   `json:"institution"`
	Discipline  string   `json:"discipline,omitempty"`
	Expertise   string   `json:"expertise"`
	Region      string   `json:"region,omitempty"`
	Specialties []string `json:"specialties,omitempty"`
	Fields      []string `json:"fields,omitempty"`
}

// Kind implements Record.
func (tm *Team) Kind() Kind { return KindTeam }

// Audience implements Record: team profiles are public.
func (tm *Team) Audience() []string {
	return []string{PrincipalStaff, InstitutionPrincipal(tm.Institution), PrincipalPublic}
}

// Normalize implements Record.
func (tm *Team) Normalize(t *Taxonomy) {
	tm.Meta.normalize()
	trim(&tm.Name, &tm.Institution, &tm.Discipline, &tm.Expertise, &tm.Region)
	tm.Specialties = canonicalList(t.Specialties, tm.Specialties)
	tm.Fields = canonicalList(t.Fields, tm.Fields)
}

// Validate implements Record.
func (tm *Team) Validate(t *Taxonomy) error {
	var v validator
	tm.Meta.validate(&v)
	text(&v, "name", tm.Name, 200, true)
	text(&v, "institution", tm.Institution, 100, true)
	text(&v, "discipline", tm.Discipline, 100, false)
	text(&v, "expertise", tm.Expertise, 5000, true)
	text(&v, "region", tm.Region, 50, false)
	checkLabels(&v, t.Specialties, "specialties", tm.Specialties, 0)
	checkLabels(&v, t.Fields, "fields", tm.Fields, 0)
	return v.err()
}

// Text implements Record.
func (tm *Team) Text() []Field {
	return []Field{{"name", tm.Name}, {"expertise", tm.Expertise}, {"institution", tm.Institution}, {"discipline", tm.Discipline}}
}

// Enterprise is a company looking for technology. Required: name.
type Enterprise struct {
	Meta
	Name    string   `json:"name"`
	Region  string   `json:"region,omitempty"`
	Size    Size     `json:"size,omitempty"`
	Fields  []string `json:"fields,omitempty"`
	Profile string   `json:"profile,omitempty"`
}

// Kind implements Record.
func (e *Enterprise) Kind() Kind { return KindEnterprise }

// Audience implements Record: enterprise profiles are public.
func (e *Enterprise) Audience() []string {
	return []string{PrincipalStaff, EnterprisePrincipal(e.ID), PrincipalPublic}
}

// Normalize implements Record.
func (e *Enterprise) Normalize(t *Taxonomy) {
	e.Meta.normalize()
	trim(&e.Name, &e.Region, &e.Profile)
	e.Size = normCode(e.Size)
	e.Fields = canonicalList(t.Fields, e.Fields)
}

// Validate implements Record.
func (e *Enterprise) Validate(t *Taxonomy) error {
	var v validator
	e.Meta.validate(&v)
	text(&v, "name", e.Name, 200, true)
	text(&v, "region", e.Region, 50, false)
	checkEnum(&v, "size", e.Size, Sizes, false)
	checkLabels(&v, t.Fields, "fields", e.Fields, 0)
	text(&v, "profile", e.Profile, 5000, false)
	return v.err()
}

// Text implements Record.
func (e *Enterprise) Text() []Field {
	return []Field{{"name", e.Name}, {"profile", e.Profile}}
}

// Demand is a 企业技术需求: what technology an enterprise wants. Required:
// enterprise_id (an existing enterprise), title, description. Defaults:
// visibility public, status open.
type Demand struct {
	Meta
	EnterpriseID  string           `json:"enterprise_id"`
	Title         string           `json:"title"`
	Description   string           `json:"description"`
	Fields        []string         `json:"fields,omitempty"`
	Specialty     string           `json:"specialty,omitempty"`
	Budget        *Price           `json:"budget,omitempty"`
	Maturity      []Maturity       `json:"maturity,omitempty"` // acceptable stages
	TransferModes []TransferMode   `json:"transfer_modes,omitempty"`
	Deadline      string           `json:"deadline,omitempty"` // YYYY-MM-DD
	Visibility    DemandVisibility `json:"visibility"`
	Status        DemandStatus     `json:"status"`
}

// Kind implements Record.
func (d *Demand) Kind() Kind { return KindDemand }

// Audience implements Record: a private demand is read only by its
// enterprise and staff.
func (d *Demand) Audience() []string {
	aud := []string{PrincipalStaff, EnterprisePrincipal(d.EnterpriseID)}
	if d.Visibility == DemandPublic {
		aud = append(aud, PrincipalPublic)
	}
	return aud
}

// Normalize implements Record.
func (d *Demand) Normalize(t *Taxonomy) {
	d.Meta.normalize()
	trim(&d.EnterpriseID, &d.Title, &d.Description, &d.Deadline)
	d.Fields = canonicalList(t.Fields, d.Fields)
	d.Specialty = canonical(t.Specialties, d.Specialty)
	d.Maturity = normCodes(d.Maturity)
	d.TransferModes = normCodes(d.TransferModes)
	d.Visibility = normCode(d.Visibility)
	if d.Visibility == "" {
		d.Visibility = DemandPublic
	}
	d.Status = normCode(d.Status)
	if d.Status == "" {
		d.Status = DemandOpen
	}
	if d.Budget.empty() {
		d.Budget = nil
	}
}

// Validate implements Record. That the enterprise exists is checked by the
// Store.
func (d *Demand) Validate(t *Taxonomy) error {
	var v validator
	d.Meta.validate(&v)
	if d.EnterpriseID == "" {
		v.add("enterprise_id", "is required")
	} else if !ValidID(d.EnterpriseID) {
		v.add("enterprise_id", "is not a valid id")
	}
	text(&v, "title", d.Title, 200, true)
	text(&v, "description", d.Description, 20000, true)
	checkLabels(&v, t.Fields, "fields", d.Fields, 0)
	checkLabel(&v, t.Specialties, "specialty", d.Specialty, false)
	d.Budget.validate(&v, "budget")
	checkEnums(&v, "maturity", d.Maturity, Maturities)
	checkEnums(&v, "transfer_modes", d.TransferModes, TransferModes)
	if d.Deadline != "" {
		if _, err := time.Parse(time.DateOnly, d.Deadline); err != nil {
			v.add("deadline", "must be a date like 2027-06-30")
		}
	}
	checkEnum(&v, "visibility", d.Visibility, DemandVisibilities, true)
	checkEnum(&v, "status", d.Status, DemandStatuses, true)
	return v.err()
}

// Text implements Record.
func (d *Demand) Text() []Field {
	return []Field{{"title", d.Title}, {"description", d.Description}}
}

// items checks each string of a list as text of at most max characters.
func items(v *validator, field string, xs []string, max int) {
	for i, x := range xs {
		var iv validator
		text(&iv, field, x, max, false)
		for _, e := range iv.errs {
			v.add(field, "item %d: %s", i+1, e.Message)
		}
	}
}

func trim(ps ...*string) {
	for _, p := range ps {
		*p = strings.TrimSpace(*p)
	}
}

func normStrings(xs []string) []string { return mapUnique(xs, strings.TrimSpace) }

// text checks a free-text field: required, at most max characters, valid
// UTF-8 and no NUL bytes.
func text(v *validator, field, s string, max int, required bool) {
	switch {
	case s == "":
		if required {
			v.add(field, "is required")
		}
	case !utf8.ValidString(s):
		v.add(field, "is not valid UTF-8")
	case strings.ContainsRune(s, 0):
		v.add(field, "must not contain NUL characters")
	case utf8.RuneCountInString(s) > max:
		v.add(field, "is longer than %d characters", max)
	}
}

var (
	_ Record = (*Achievement)(nil)
	_ Record = (*ClinicalNeed)(nil)
	_ Record = (*Team)(nil)
	_ Record = (*Enterprise)(nil)
	_ Record = (*Demand)(nil)
)
