// Package curation holds what transfer offices need to keep the catalogue
// good: the data-quality report (records missing key fields, with
// implausible values, or stale), counted per institution.
package curation

import (
	"context"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/medmatch/medmatch"
)

// Problem classes.
const (
	Missing     = "missing"     // a key field is empty
	Implausible = "implausible" // values that cannot all be true
	Stale       = "stale"       // not updated for StaleMonths
)

// Issue is one problem of one record.
type Issue struct {
	Kind   medmatch.Kind `json:"type"`
	ID     string        `json:"id"`
	Title  string        `json:"title"`
	Owner  string        `json:"owner"` // institution, hospital or enterprise
	Class  string        `json:"class"` // Missing, Implausible or Stale
	Field  string        `json:"field"`
	Detail string        `json:"detail"`
}

// OwnerCount is one institution's (or enterprise's) records and problems.
type OwnerCount struct {
	Owner       string `json:"owner"`
	Records     int    `json:"records"`
	WithIssues  int    `json:"with_issues"`
	Missing     int    `json:"missing"`
	Implausible int    `json:"implausible"`
	Stale       int    `json:"stale"`
}

// Report is the data-quality report.
type Report struct {
	At          time.Time      `json:"at"`
	StaleMonths int            `json:"stale_months"`
	Records     int            `json:"records"`
	WithIssues  int            `json:"with_issues"`
	ByClass     map[string]int `json:"by_class"`
	ByField     map[string]int `json:"by_field"`
	ByOwner     []OwnerCount   `json:"by_owner"` // most issues first
	Issues      []Issue        `json:"issues"`
}

// Options of Check.
type Options struct {
	StaleMonths int // default 12
	Now         time.Time
}

// MinDescription is the shortest description that says enough.
const MinDescription = 60

// Check reads every record v may read (staff: all) and reports its
// problems.
func Check(ctx context.Context, s medmatch.Store, v medmatch.Viewer, opt Options) (*Report, error) {
	if !v.Staff() {
		if v.Anonymous() {
			return nil, medmatch.Errorf(medmatch.EUNAUTHORIZED, "", "an organizer key is needed for the data-quality report")
		}
		return nil, medmatch.Errorf(medmatch.EFORBIDDEN, "", "the data-quality report is for organizers")
	}
	if opt.StaleMonths == 0 {
		opt.StaleMonths = 12
	}
	if opt.StaleMonths < 1 || opt.StaleMonths > 240 {
		return nil, medmatch.Errorf(medmatch.EINVALID, "stale_months", "must be between 1 and 240")
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	rep := &Report{At: opt.Now.UTC(), StaleMonths: opt.StaleMonths, ByClass: map[string]int{}, ByField: map[string]int{}, Issues: []Issue{}}
	staleBefore := opt.Now.AddDate(0, -opt.StaleMonths, 0)
	owners := map[string]*OwnerCount{}
	_, err := s.Scan(ctx, func(r medmatch.Record) error {
		if !medmatch.CanRead(v, r) {
			return nil
		}
		issues := check(r, opt.Now, staleBefore)
		rep.Records++
		oc := owners[issueOwner(r)]
		if oc == nil {
			oc = &OwnerCount{Owner: issueOwner(r)}
			owners[oc.Owner] = oc
		}
		oc.Records++
		if len(issues) > 0 {
			rep.WithIssues++
			oc.WithIssues++
		}
		for _, is := range issues {
			rep.ByClass[is.Class]++
			rep.ByField[string(is.Kind)+"."+is.Field]++
			switch is.Class {
			case Missing:
				oc.Missing++
			case Implausible:
				oc.Implausible++
			case Stale:
				oc.Stale++
			}
		}
		rep.Issues = append(rep.Issues, issues...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, oc := range owners {
		rep.ByOwner = append(rep.ByOwner, *oc)
	}
	sort.Slice(rep.ByOwner, func(i, j int) bool {
		a, b := rep.ByOwner[i], rep.ByOwner[j]
		if a.WithIssues != b.WithIssues {
			return a.WithIssues > b.WithIssues
		}
		return a.Owner < b.Owner
	})
	classRank := map[string]int{Implausible: 0, Stale: 1, Missing: 2}
	sort.SliceStable(rep.Issues, func(i, j int) bool {
		a, b := rep.Issues[i], rep.Issues[j]
		if a.Class != b.Class {
			return classRank[a.Class] < classRank[b.Class]
		}
		if a.Owner != b.Owner {
			return a.Owner < b.Owner
		}
		return a.ID < b.ID
	})
	return rep, nil
}

func issueOwner(r medmatch.Record) string {
	switch r := r.(type) {
	case *medmatch.Achievement:
		return r.Institution
	case *medmatch.ClinicalNeed:
		return r.Hospital
	case *medmatch.Team:
		return r.Institution
	case *medmatch.Demand:
		return "企业 " + r.EnterpriseID
	case *medmatch.Enterprise:
		return "企业 " + r.ID
	}
	return ""
}

// check lists one record's problems.
func check(r medmatch.Record, now, staleBefore time.Time) []Issue {
	var out []Issue
	add := func(class, field, detail string) {
		out = append(out, Issue{Kind: r.Kind(), ID: r.Base().ID, Title: medmatch.TitleOf(r), Owner: issueOwner(r), Class: class, Field: field, Detail: detail})
	}
	m := r.Base()
	if m.UpdatedAt.After(now.Add(24 * time.Hour)) {
		add(Implausible, "updated_at", "updated in the future: "+m.UpdatedAt.Format(time.DateOnly))
	} else if !m.UpdatedAt.IsZero() && m.UpdatedAt.Before(staleBefore) {
		add(Stale, "updated_at", "not updated since "+m.UpdatedAt.Format(time.DateOnly))
	}
	switch r := r.(type) {
	case *medmatch.Achievement:
		if r.Summary == "" {
			add(Missing, "summary", "no one-line summary for the result lists")
		}
		if utf8.RuneCountInString(r.Description) < MinDescription {
			add(Missing, "description", "the description is shorter than 60 characters")
		}
		if r.IP == nil {
			add(Missing, "ip", "no intellectual-property information")
		}
		if len(r.TransferModes) == 0 {
			add(Missing, "transfer_modes", "no transfer mode (许可, 转让, 合作开发, 作价入股)")
		}
		if r.Price == nil {
			add(Missing, "price", "no price and not marked 面议")
		}
		if r.Region == "" {
			add(Missing, "region", "no region")
		}
		if r.Broker == "" {
			add(Missing, "broker", "no technology broker to contact")
		}
		if len(r.Team) == 0 {
			add(Missing, "team", "no team")
		}
		if (r.Maturity == medmatch.MaturityRegistered || r.Maturity == medmatch.MaturityMarketed) && (r.IP == nil || len(r.IP.Numbers) == 0) {
			add(Implausible, "maturity", "registered or marketed, but no patent or registration number")
		}
		if r.IP != nil && r.IP.Status == medmatch.IPGranted && len(r.IP.Numbers) == 0 {
			add(Implausible, "ip.numbers", "IP granted, but no number")
		}
		if r.Price != nil && r.Price.Min > 0 && r.Price.Max > 0 && r.Price.Max > 100*r.Price.Min {
			add(Implausible, "price", "the price range spans more than a factor of 100")
		}
	case *medmatch.ClinicalNeed:
		if r.Department == "" {
			add(Missing, "department", "no department")
		}
		if r.CurrentPractice == "" {
			add(Missing, "current_practice", "no current practice")
		}
		if r.DesiredOutcome == "" {
			add(Missing, "desired_outcome", "no desired outcome")
		}
		if r.Region == "" {
			add(Missing, "region", "no region")
		}
	case *medmatch.Demand:
		if r.Budget == nil {
			add(Missing, "budget", "no budget and not marked 面议")
		}
		if len(r.Maturity) == 0 {
			add(Missing, "maturity", "no acceptable maturity stages")
		}
		if r.Deadline != "" && r.Status == medmatch.DemandOpen {
			if d, err := time.Parse(time.DateOnly, r.Deadline); err == nil && d.Before(now.AddDate(0, 0, -1)) {
				add(Implausible, "deadline", "open, but the deadline "+r.Deadline+" has passed")
			}
		}
	case *medmatch.Enterprise:
		if r.Profile == "" {
			add(Missing, "profile", "no profile: matches can only use its demands")
		}
	case *medmatch.Team:
		if len(r.Specialties) == 0 && len(r.Fields) == 0 {
			add(Missing, "specialties", "neither specialties nor fields")
		}
	}
	return out
}
