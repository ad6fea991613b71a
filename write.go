package medmatch

import (
	"context"
	"errors"
	"sort"
	"time"
)

// WriteMode says how a Store write treats an existing record.
type WriteMode int

// Write modes.
const (
	WriteCreate WriteMode = iota // fail if the id exists
	WriteUpdate                  // fail if the id does not exist
	WriteUpsert                  // match by external id, then id; create otherwise
)

// WriteReader is what PrepareWrite reads from a Store, inside the Store's
// transaction (so that what it checks still holds when the write lands).
type WriteReader interface {
	// Record returns the stored record, nil if there is none.
	Record(k Kind, id string) (Record, error)
	// ExternalID returns the id of the record of kind k with external id
	// ext, "" if none.
	ExternalID(k Kind, ext string) (string, error)
}

// PrepareWrite runs every check of a record write, the same in every
// Store: it normalises r, finds the record it replaces (by external id
// for upserts, then by id), checks the mode, the version, the defaults,
// validation, permissions, the demand's enterprise and external-id
// uniqueness, and then sets r's id (generated if empty), version and
// timestamps. It returns the record replaced (nil for a create) and the
// action (ActionCreate or ActionUpdate). Nothing is written: the Store
// writes r only when PrepareWrite returns no error.
func PrepareWrite(rd WriteReader, v Viewer, tax *Taxonomy, r Record, mode WriteMode, now time.Time) (Record, string, error) {
	if v.Anonymous() {
		return nil, "", CanWrite(v, nil, r)
	}
	k := r.Kind()
	m := r.Base()
	r.Normalize(tax)
	var old Record
	var err error
	if mode == WriteUpsert && m.ExternalID != "" {
		id, err := rd.ExternalID(k, m.ExternalID)
		if err != nil {
			return nil, "", err
		}
		if id != "" {
			if m.ID != "" && m.ID != id {
				return nil, "", Errorf(ECONFLICT, "external_id", "external id %q belongs to %s %s, not %s", m.ExternalID, k, id, m.ID)
			}
			m.ID = id
		}
	}
	if m.ID != "" {
		if old, err = rd.Record(k, m.ID); err != nil {
			return nil, "", err
		}
	}
	switch {
	case mode == WriteCreate && old != nil:
		return nil, "", Errorf(ECONFLICT, "id", "%s %q already exists", k, m.ID)
	case mode == WriteUpdate && (old == nil || !CanRead(v, old)):
		return nil, "", Errorf(ENOTFOUND, "id", "no %s %q", k, m.ID)
	case mode == WriteUpsert && old != nil && !CanRead(v, old):
		// Do not reveal that a record the viewer cannot read exists.
		return nil, "", Errorf(EFORBIDDEN, "id", "cannot write %s %q", k, m.ID)
	}
	now = now.UTC()
	action := ActionCreate
	if old == nil {
		if m.Version != 0 && mode == WriteCreate {
			return nil, "", Errorf(EINVALID, "version", "must be empty when creating")
		}
		m.Version = 1
		m.CreatedAt = now
	} else {
		action = ActionUpdate
		om := old.Base()
		if m.Version != 0 && m.Version != om.Version {
			return nil, "", Errorf(ECONFLICT, "version", "%s %q is at version %d, not %d: reload and retry", k, m.ID, om.Version, m.Version)
		}
		m.Version = om.Version + 1
		m.CreatedAt = om.CreatedAt
	}
	m.UpdatedAt = now
	ApplyDefaults(v, r)
	if err := r.Validate(tax); err != nil {
		return nil, "", err
	}
	if err := CanWrite(v, old, r); err != nil {
		return nil, "", err
	}
	if err := applyWorkflow(v, old, r, now); err != nil {
		return nil, "", err
	}
	if d, ok := r.(*Demand); ok {
		if e, err := rd.Record(KindEnterprise, d.EnterpriseID); err != nil {
			return nil, "", err
		} else if e == nil {
			return nil, "", Errorf(EINVALID, "enterprise_id", "no enterprise %q", d.EnterpriseID)
		}
	}
	// External ids are unique per kind.
	if m.ExternalID != "" {
		id, err := rd.ExternalID(k, m.ExternalID)
		if err != nil {
			return nil, "", err
		}
		if id != "" && id != m.ID {
			return nil, "", Errorf(ECONFLICT, "external_id", "external id %q is taken by %s %s", m.ExternalID, k, id)
		}
	}
	// Every check passed. A generated id is only given now, so a rejected
	// record never reports an id nobody has.
	if m.ID == "" {
		m.ID = NewID(k, now)
	}
	return old, action, nil
}

// CountKeys are the counters a record adds to: "<kind>|all",
// "<kind>|public" when the public may read it, and otherwise
// "<kind>|own|<principal>" for each owner. A Store keeps them so that a
// list's total costs no scan.
func CountKeys(r Record) []string {
	k := string(r.Kind())
	keys := []string{k + "|all"}
	aud := r.Audience()
	for _, a := range aud {
		if a == PrincipalPublic {
			return append(keys, k+"|public")
		}
	}
	for _, a := range aud {
		if a != PrincipalStaff {
			keys = append(keys, k+"|own|"+a)
		}
	}
	return keys
}

// VisibleTotal is the number of records of kind k that v may read, from
// the counters of CountKeys.
func VisibleTotal(v Viewer, k Kind, count func(key string) int) int {
	if v.Staff() {
		return count(string(k) + "|all")
	}
	n := 0
	for _, p := range v.Principals() {
		if p == PrincipalPublic {
			n += count(string(k) + "|public")
		} else {
			n += count(string(k) + "|own|" + p)
		}
	}
	return n
}

// ImportRows is the row loop of Store.Import, the same in every Store:
// enterprises first (so that the demands of the same file find them),
// then the input order within a kind; put writes one record inside the
// Store's transaction and returns its action, or a *Error that rejects
// the row (any other error ends the import). It returns the report and
// the ids the rows were given, for RolledBack.
func ImportRows(ctx context.Context, recs []Record, opt ImportOptions, put func(Record) (string, error)) (*ImportResult, []string, error) {
	rank := map[Kind]int{KindEnterprise: 0, KindTeam: 1, KindAchievement: 2, KindNeed: 3, KindDemand: 4}
	order := make([]int, len(recs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rank[recs[order[a]].Kind()] < rank[recs[order[b]].Kind()] })
	res := &ImportResult{DryRun: opt.DryRun, Rows: make([]ImportRow, len(recs))}
	given := make([]string, len(recs))
	for n, i := range order {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if opt.Progress != nil && n%1000 == 0 {
			opt.Progress(n)
		}
		r := recs[i]
		given[i] = r.Base().ID
		row := ImportRow{Index: i, Kind: r.Kind()}
		action, err := put(r)
		row.ID = r.Base().ID
		if err != nil {
			var me *Error
			if !errors.As(err, &me) {
				return nil, nil, err
			}
			row.Action, row.Error = ActionReject, me
			res.Rejected++
		} else {
			row.Action = action
			if action == ActionCreate {
				res.Created++
			} else {
				res.Updated++
			}
		}
		res.Rows[i] = row
	}
	if opt.Progress != nil {
		opt.Progress(len(recs))
	}
	return res, given, nil
}

// Commit reports whether an import with this result is to be written:
// not a dry run, and no row rejected unless SkipInvalid.
func (r *ImportResult) Commit(opt ImportOptions) bool {
	return !opt.DryRun && (r.Rejected == 0 || opt.SkipInvalid)
}

// RolledBack marks the result of an import that wrote nothing: no
// sequence, and created rows show the id they were given (generated ids
// were never stored).
func (r *ImportResult) RolledBack(given []string) {
	r.Seq = 0
	for i := range r.Rows {
		if r.Rows[i].Action == ActionCreate {
			r.Rows[i].ID = given[i]
		}
	}
}
