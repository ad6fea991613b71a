// Package storetest is the contract test suite every medmatch.Store
// implementation runs unchanged: CRUD, paging, visibility, sequence numbers,
// the change feed, imports, keys, concurrent writers and deletes.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/dict"
)

// Opener returns a new, empty store for one test; it registers its own cleanup.
type Opener func(t *testing.T) medmatch.Store

var (
	organizer = medmatch.Viewer{Role: medmatch.RoleOrganizer, KeyID: "k-org"}
	admin     = medmatch.Viewer{Role: medmatch.RoleAdmin, KeyID: "k-admin"}
	anon      = medmatch.Viewer{}
	reader    = medmatch.Viewer{Role: medmatch.RoleReader}
	instA     = medmatch.Viewer{Role: medmatch.RoleInstitution, Institution: "东岚医科大学附属第一医院"}
	instB     = medmatch.Viewer{Role: medmatch.RoleInstitution, Institution: "云岫市中心医院"}
	ent1      = medmatch.Viewer{Role: medmatch.RoleEnterprise, Enterprise: "ent-1"}
	ent2      = medmatch.Viewer{Role: medmatch.RoleEnterprise, Enterprise: "ent-2"}
)

// Achievement returns a valid achievement of institution inst.
func Achievement(id, inst string) *medmatch.Achievement {
	return &medmatch.Achievement{
		Meta:  medmatch.Meta{ID: id},
		Title: "脑深部电刺激系统 " + id, Description: "可充电植入式脉冲发生器，支持远程程控，用于帕金森病。",
		Institution: inst, Specialty: "神经", Fields: []string{"医疗器械"}, Maturity: medmatch.MaturityClinicalTrial,
	}
}

// Run runs the whole suite against stores from open.
func Run(t *testing.T, open Opener) {
	t.Run("CRUD", func(t *testing.T) { testCRUD(t, open(t)) })
	t.Run("Validation", func(t *testing.T) { testValidation(t, open(t)) })
	t.Run("Visibility", func(t *testing.T) { testVisibility(t, open(t)) })
	t.Run("Permissions", func(t *testing.T) { testPermissions(t, open(t)) })
	t.Run("Paging", func(t *testing.T) { testPaging(t, open(t)) })
	t.Run("ChangeFeed", func(t *testing.T) { testChangeFeed(t, open(t)) })
	t.Run("Import", func(t *testing.T) { testImport(t, open(t)) })
	t.Run("Keys", func(t *testing.T) { testKeys(t, open(t)) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("Deletes", func(t *testing.T) { testDeletes(t, open(t)) })
	t.Run("Feedback", func(t *testing.T) { testFeedback(t, open(t)) })
	t.Run("Artifacts", func(t *testing.T) { testArtifacts(t, open(t)) })
	t.Run("Events", func(t *testing.T) { testEvents(t, open(t)) })
	t.Run("Workflow", func(t *testing.T) { testWorkflow(t, open(t)) })
	t.Run("Ownership", func(t *testing.T) { testOwnership(t, open(t)) })
}

func code(t *testing.T, err error, want string) {
	t.Helper()
	if got := medmatch.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (%v); want %q", got, err, want)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func testCRUD(t *testing.T, s medmatch.Store) {
	ctx := context.Background()
	a := Achievement("ach-1", instA.Institution)
	a.ExternalID = "X-1"
	got := must[medmatch.Record](t)(s.Create(ctx, organizer, a))
	m := got.Base()
	if m.ID != "ach-1" || m.Version != 1 || m.CreatedAt.IsZero() || !m.CreatedAt.Equal(m.UpdatedAt) {
		t.Fatalf("Create = %+v; want id ach-1, version 1, timestamps set", m)
	}
	if st := got.(*medmatch.Achievement).Status; st != medmatch.StatusPublished {
		t.Errorf("status default for organizer = %q; want published", st)
	}
	if vis := got.(*medmatch.Achievement).Visibility; vis != medmatch.VisibilityPublic {
		t.Errorf("visibility default = %q; want public", vis)
	}
	_, err := s.Create(ctx, organizer, Achievement("ach-1", instA.Institution))
	code(t, err, medmatch.ECONFLICT)
	dup := Achievement("ach-2", instA.Institution)
	dup.ExternalID = "X-1"
	_, err = s.Create(ctx, organizer, dup)
	code(t, err, medmatch.ECONFLICT)

	r := must[medmatch.Record](t)(s.Get(ctx, anon, medmatch.KindAchievement, "ach-1"))
	if r.(*medmatch.Achievement).Title != a.Title {
		t.Fatalf("Get title = %q; want %q", r.(*medmatch.Achievement).Title, a.Title)
	}
	_, err = s.Get(ctx, anon, medmatch.KindAchievement, "nope")
	code(t, err, medmatch.ENOTFOUND)

	upd := Achievement("ach-1", instA.Institution)
	upd.Title = "新标题"
	upd.Version = 1
	got = must[medmatch.Record](t)(s.Update(ctx, organizer, upd))
	if got.Base().Version != 2 || !got.Base().CreatedAt.Equal(m.CreatedAt) {
		t.Fatalf("Update = version %d created %v; want 2, %v", got.Base().Version, got.Base().CreatedAt, m.CreatedAt)
	}
	stale := Achievement("ach-1", instA.Institution)
	stale.Version = 1
	_, err = s.Update(ctx, organizer, stale)
	code(t, err, medmatch.ECONFLICT)
	_, err = s.Update(ctx, organizer, Achievement("missing", instA.Institution))
	code(t, err, medmatch.ENOTFOUND)

	// Generated ids.
	gen := Achievement("", instA.Institution)
	got = must[medmatch.Record](t)(s.Create(ctx, organizer, gen))
	if !medmatch.ValidID(got.Base().ID) {
		t.Fatalf("generated id %q is not valid", got.Base().ID)
	}

	must[struct{}](t)(struct{}{}, s.Delete(ctx, organizer, medmatch.KindAchievement, "ach-1"))
	_, err = s.Get(ctx, organizer, medmatch.KindAchievement, "ach-1")
	code(t, err, medmatch.ENOTFOUND)
	code(t, s.Delete(ctx, organizer, medmatch.KindAchievement, "ach-1"), medmatch.ENOTFOUND)
	// The external id is free again.
	again := Achievement("ach-3", instA.Institution)
	again.ExternalID = "X-1"
	must[medmatch.Record](t)(s.Create(ctx, organizer, again))
}

func testValidation(t *testing.T, s medmatch.Store) {
	ctx := context.Background()
	cases := []struct {
		name  string
		edit  func(a *medmatch.Achievement)
		field string
	}{
		{"no title", func(a *medmatch.Achievement) { a.Title = " " }, "title"},
		{"no fields", func(a *medmatch.Achievement) { a.Fields = nil }, "fields"},
		{"bad field", func(a *medmatch.Achievement) { a.Fields = []string{"航天"} }, "fields"},
		{"bad specialty", func(a *medmatch.Achievement) { a.Specialty = "火星科" }, "specialty"},
		{"bad maturity", func(a *medmatch.Achievement) { a.Maturity = "ripe" }, "maturity"},
		{"bad status", func(a *medmatch.Achievement) { a.Status = "done" }, "status"},
		{"price order", func(a *medmatch.Achievement) { a.Price = &medmatch.Price{Min: 50, Max: 10} }, "price.max"},
		{"bad id", func(a *medmatch.Achievement) { a.ID = "a b" }, "id"},
		{"ip numbers without status", func(a *medmatch.Achievement) {
			a.IP = &medmatch.IP{Type: medmatch.IPInvention, Numbers: []string{"CN1"}}
		}, "ip.status"},
	}
	for _, c := range cases {
		a := Achievement("ach-v", instA.Institution)
		c.edit(a)
		_, err := s.Create(ctx, organizer, a)
		var me *medmatch.Error
		if !errors.As(err, &me) || me.Code != medmatch.EINVALID || me.Field != c.field {
			t.Errorf("%s: Create error = %v; want invalid on field %s", c.name, err, c.field)
		}
	}
	// Synonyms of labels are normalised, not rejected.
	a := Achievement("ach-syn", instA.Institution)
	a.Specialty = "神经内科"
	a.Fields = []string{"IVD", "医疗器械", "体外诊断"}
	r := must[medmatch.Record](t)(s.Create(ctx, organizer, a)).(*medmatch.Achievement)
	if r.Specialty != "神经" || fmt.Sprint(r.Fields) != "[体外诊断 医疗器械]" {
		t.Errorf("normalised specialty, fields = %q, %q; want 神经, [体外诊断 医疗器械]", r.Specialty, r.Fields)
	}
	d := &medmatch.Demand{Meta: medmatch.Meta{ID: "dem-x"}, EnterpriseID: "ent-none", Title: "t", Description: "d"}
	_, err := s.Create(ctx, organizer, d)
	var me *medmatch.Error
	if !errors.As(err, &me) || me.Field != "enterprise_id" {
		t.Errorf("demand of missing enterprise: %v; want invalid enterprise_id", err)
	}
}

// seed writes records with every visibility case and returns nothing; ids
// are fixed so tests can refer to them.
func seed(t *testing.T, s medmatch.Store) {
	ctx := context.Background()
	mk := must[medmatch.Record](t)
	pub := Achievement("ach-pub", instA.Institution)
	mk(s.Create(ctx, organizer, pub))
	draft := Achievement("ach-draft", instA.Institution)
	mk(s.Create(ctx, instA, draft)) // institution default: draft
	orgOnly := Achievement("ach-org", instB.Institution)
	orgOnly.Visibility = medmatch.VisibilityOrganizers
	mk(s.Create(ctx, organizer, orgOnly))
	for _, id := range []string{"ent-1", "ent-2"} {
		mk(s.Create(ctx, organizer, &medmatch.Enterprise{Meta: medmatch.Meta{ID: id}, Name: "企业" + id}))
	}
	mk(s.Create(ctx, organizer, &medmatch.Demand{Meta: medmatch.Meta{ID: "dem-pub"}, EnterpriseID: "ent-1", Title: "公开需求", Description: "寻找骨科材料"}))
	mk(s.Create(ctx, ent1, &medmatch.Demand{Meta: medmatch.Meta{ID: "dem-priv1"}, EnterpriseID: "ent-1", Title: "私有需求", Description: "寻找神经调控", Visibility: medmatch.DemandPrivate}))
	mk(s.Create(ctx, ent2, &medmatch.Demand{Meta: medmatch.Meta{ID: "dem-priv2"}, EnterpriseID: "ent-2", Title: "私有需求二", Description: "寻找影像AI", Visibility: medmatch.DemandPrivate}))
}

func testVisibility(t *testing.T, s medmatch.Store) {
	seed(t, s)
	ctx := context.Background()
	cases := []struct {
		name string
		v    medmatch.Viewer
		kind medmatch.Kind
		want []string
	}{
		{"anonymous achievements", anon, medmatch.KindAchievement, []string{"ach-pub"}},
		{"reader achievements", reader, medmatch.KindAchievement, []string{"ach-pub"}},
		{"owner institution", instA, medmatch.KindAchievement, []string{"ach-draft", "ach-pub"}},
		{"other institution", instB, medmatch.KindAchievement, []string{"ach-org", "ach-pub"}},
		{"organizer", organizer, medmatch.KindAchievement, []string{"ach-draft", "ach-org", "ach-pub"}},
		{"enterprise 1 demands", ent1, medmatch.KindDemand, []string{"dem-priv1", "dem-pub"}},
		{"enterprise 2 demands", ent2, medmatch.KindDemand, []string{"dem-priv2", "dem-pub"}},
		{"anonymous demands", anon, medmatch.KindDemand, []string{"dem-pub"}},
		{"organizer demands", organizer, medmatch.KindDemand, []string{"dem-priv1", "dem-priv2", "dem-pub"}},
	}
	for _, c := range cases {
		page := must[*medmatch.Page](t)(s.List(ctx, c.v, c.kind, medmatch.ListOptions{}))
		var got []string
		for _, r := range page.Records {
			got = append(got, r.Base().ID)
		}
		sort.Strings(got)
		if fmt.Sprint(got) != fmt.Sprint(c.want) || page.Total != len(c.want) {
			t.Errorf("%s: List = %v total %d; want %v total %d", c.name, got, page.Total, c.want, len(c.want))
		}
		for _, id := range []string{"ach-pub", "ach-draft", "ach-org", "dem-pub", "dem-priv1", "dem-priv2"} {
			k := medmatch.KindAchievement
			if id[:3] == "dem" {
				k = medmatch.KindDemand
			}
			if k != c.kind {
				continue
			}
			_, err := s.Get(ctx, c.v, k, id)
			visible := false
			for _, w := range c.want {
				visible = visible || w == id
			}
			if visible && err != nil {
				t.Errorf("%s: Get(%s) = %v; want visible", c.name, id, err)
			}
			if !visible && medmatch.ErrorCode(err) != medmatch.ENOTFOUND {
				t.Errorf("%s: Get(%s) error = %v; want not_found", c.name, id, err)
			}
		}
	}
	recs := must[[]medmatch.Record](t)(s.GetMany(ctx, ent2, []medmatch.Ref{
		{Kind: medmatch.KindDemand, ID: "dem-priv1"}, {Kind: medmatch.KindDemand, ID: "dem-priv2"}}))
	if recs[0] != nil || recs[1] == nil {
		t.Errorf("GetMany as ent-2 = %v; want [nil dem-priv2]", recs)
	}
}

func testPermissions(t *testing.T, s medmatch.Store) {
	seed(t, s)
	ctx := context.Background()
	pubA := Achievement("ach-new", instA.Institution)
	_, err := s.Create(ctx, anon, pubA)
	code(t, err, medmatch.EUNAUTHORIZED)
	_, err = s.Create(ctx, reader, Achievement("ach-new", instA.Institution))
	code(t, err, medmatch.EFORBIDDEN)
	_, err = s.Create(ctx, instB, Achievement("ach-new", instA.Institution))
	code(t, err, medmatch.EFORBIDDEN)
	self := Achievement("ach-self", instA.Institution)
	self.Status = medmatch.StatusPublished
	_, err = s.Create(ctx, instA, self)
	code(t, err, medmatch.EFORBIDDEN)
	_, err = s.Create(ctx, ent1, &medmatch.Demand{Meta: medmatch.Meta{ID: "dem-evil"}, EnterpriseID: "ent-2", Title: "t", Description: "d"})
	code(t, err, medmatch.EFORBIDDEN)
	// Another enterprise cannot learn that a private demand exists.
	code(t, s.Delete(ctx, ent2, medmatch.KindDemand, "dem-priv1"), medmatch.ENOTFOUND)
	_, err = s.Update(ctx, ent2, &medmatch.Demand{Meta: medmatch.Meta{ID: "dem-priv1"}, EnterpriseID: "ent-2", Title: "t", Description: "d"})
	code(t, err, medmatch.ENOTFOUND)
	code(t, s.Delete(ctx, ent1, medmatch.KindDemand, "dem-priv1"), "")
	code(t, s.Delete(ctx, anon, medmatch.KindAchievement, "ach-pub"), medmatch.EUNAUTHORIZED)
}

func testPaging(t *testing.T, s medmatch.Store) {
	ctx := context.Background()
	const n = 23
	var recs []medmatch.Record
	for i := range n {
		a := Achievement(fmt.Sprintf("ach-%03d", i), instA.Institution)
		if i%5 == 0 {
			a.Status = medmatch.StatusDraft
		}
		recs = append(recs, a)
	}
	res := must[*medmatch.ImportResult](t)(s.Import(ctx, organizer, recs, medmatch.ImportOptions{}))
	if res.Created != n {
		t.Fatalf("Import created %d; want %d", res.Created, n)
	}
	for _, c := range []struct {
		v     medmatch.Viewer
		limit int
		want  int
	}{{anon, 4, n - 5}, {organizer, 5, n}, {organizer, 1000, n}, {instA, 7, n}} {
		var ids []string
		cursor := ""
		pages := 0
		for {
			p := must[*medmatch.Page](t)(s.List(ctx, c.v, medmatch.KindAchievement, medmatch.ListOptions{Limit: c.limit, Cursor: cursor}))
			pages++
			if p.Total != c.want {
				t.Fatalf("Total = %d; want %d", p.Total, c.want)
			}
			if len(p.Records) > c.limit {
				t.Fatalf("page of %d records; limit %d", len(p.Records), c.limit)
			}
			for _, r := range p.Records {
				ids = append(ids, r.Base().ID)
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
			if pages > n+1 {
				t.Fatal("paging does not end")
			}
		}
		if len(ids) != c.want || !sort.StringsAreSorted(ids) {
			t.Errorf("viewer %v limit %d: paged %d ids (sorted %v); want %d sorted", c.v.Role, c.limit, len(ids), sort.StringsAreSorted(ids), c.want)
		}
	}
	_, err := s.List(ctx, anon, medmatch.KindAchievement, medmatch.ListOptions{Limit: 1001})
	code(t, err, medmatch.EINVALID)
	_, err = s.List(ctx, anon, medmatch.KindAchievement, medmatch.ListOptions{Cursor: "!!"})
	code(t, err, medmatch.EINVALID)
}

func testChangeFeed(t *testing.T, s medmatch.Store) {
	ctx := context.Background()
	h0 := must[uint64](t)(s.Head(ctx))
	must[medmatch.Record](t)(s.Create(ctx, organizer, Achievement("ach-a", instA.Institution)))
	must[medmatch.Record](t)(s.Create(ctx, organizer, Achievement("ach-b", instA.Institution)))
	must[medmatch.Record](t)(s.Update(ctx, organizer, Achievement("ach-a", instA.Institution)))
	must[struct{}](t)(struct{}{}, s.Delete(ctx, organizer, medmatch.KindAchievement, "ach-b"))
	// A failed write appends nothing.
	_, _ = s.Create(ctx, organizer, Achievement("ach-a", instA.Institution))
	chs := must[[]medmatch.Change](t)(s.Changes(ctx, h0, 100))
	var got []string
	for i, c := range chs {
		if c.Seq <= h0 || (i > 0 && c.Seq <= chs[i-1].Seq) {
			t.Fatalf("sequence numbers not increasing: %v", chs)
		}
		got = append(got, fmt.Sprintf("%s:%s", c.Op, c.ID))
	}
	if want := "[put:ach-a put:ach-b put:ach-a delete:ach-b]"; fmt.Sprint(got) != want {
		t.Fatalf("Changes = %v; want %s", got, want)
	}
	if h := must[uint64](t)(s.Head(ctx)); h != chs[len(chs)-1].Seq {
		t.Fatalf("Head = %d; want %d", h, chs[len(chs)-1].Seq)
	}
	if more := must[[]medmatch.Change](t)(s.Changes(ctx, chs[1].Seq, 1)); len(more) != 1 || more[0].Seq != chs[2].Seq {
		t.Fatalf("Changes(since, 1) = %v; want the third change", more)
	}

	// Wait returns when a write lands.
	head := must[uint64](t)(s.Head(ctx))
	done := make(chan error, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		done <- s.Wait(wctx, head)
	}()
	time.Sleep(20 * time.Millisecond)
	must[medmatch.Record](t)(s.Create(ctx, organizer, Achievement("ach-c", instA.Institution)))
	if err := <-done; err != nil {
		t.Fatalf("Wait = %v; want nil after a write", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if err := s.Wait(wctx, head+1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with no write = %v; want deadline exceeded", err)
	}

	// Scan sees every record as of its sequence number.
	var ids []string
	seq := must[uint64](t)(s.Scan(ctx, func(r medmatch.Record) error {
		ids = append(ids, r.Base().ID)
		return nil
	}))
	if seq != head+1 || fmt.Sprint(ids) != "[ach-a ach-c]" {
		t.Fatalf("Scan = %v at %d; want [ach-a ach-c] at %d", ids, seq, head+1)
	}

	// Compaction after every consumer acked; old positions are then trimmed.
	must[struct{}](t)(struct{}{}, s.Ack(ctx, "index-b", 2))
	must[struct{}](t)(struct{}{}, s.Ack(ctx, "index-a", seq))
	if _, err := s.Changes(ctx, 2, 10); err != nil {
		t.Fatalf("Changes(2) after acks up to 2: %v", err)
	}
	_, err := s.Changes(ctx, 0, 10)
	code(t, err, medmatch.ETRIMMED)
	must[struct{}](t)(struct{}{}, s.Ack(ctx, "index-b", seq))
	_, err = s.Changes(ctx, 2, 10)
	code(t, err, medmatch.ETRIMMED)
	if rest := must[[]medmatch.Change](t)(s.Changes(ctx, seq, 10)); len(rest) != 0 {
		t.Fatalf("Changes(head) = %v; want none", rest)
	}
}

func testImport(t *testing.T, s medmatch.Store) {
	ctx := context.Background()
	good := func(id string) medmatch.Record { return Achievement(id, instA.Institution) }
	bad := Achievement("ach-bad", instA.Institution)
	bad.Maturity = "nope"
	dem := &medmatch.Demand{Meta: medmatch.Meta{ID: "dem-1"}, EnterpriseID: "ent-9", Title: "t", Description: "d"}
	ent := &medmatch.Enterprise{Meta: medmatch.Meta{ID: "ent-9"}, Name: "企业九"}

	// All or nothing.
	res := must[*medmatch.ImportResult](t)(s.Import(ctx, organizer, []medmatch.Record{good("ach-1"), bad, good("ach-2")}, medmatch.ImportOptions{}))
	if res.Rejected != 1 || res.Rows[1].Action != medmatch.ActionReject || res.Rows[1].Error.Field != "maturity" {
		t.Fatalf("Import rows = %+v; want row 2 rejected on maturity", res.Rows)
	}
	if c := must[map[medmatch.Kind]int](t)(s.Counts(ctx)); c[medmatch.KindAchievement] != 0 {
		t.Fatalf("after a rejected all-or-nothing import the store holds %d achievements; want 0", c[medmatch.KindAchievement])
	}
	// Dry run writes nothing but reports.
	res = must[*medmatch.ImportResult](t)(s.Import(ctx, organizer, []medmatch.Record{good("ach-1")}, medmatch.ImportOptions{DryRun: true}))
	if res.Created != 1 || !res.DryRun {
		t.Fatalf("dry run = %+v; want 1 create", res)
	}
	if c := must[map[medmatch.Kind]int](t)(s.Counts(ctx)); c[medmatch.KindAchievement] != 0 {
		t.Fatal("dry run wrote records")
	}
	// Skip invalid; demands may come before their enterprise in the input.
	bad2 := Achievement("ach-bad", instA.Institution)
	bad2.Maturity = "nope"
	res = must[*medmatch.ImportResult](t)(s.Import(ctx, organizer, []medmatch.Record{dem, good("ach-1"), bad2, ent}, medmatch.ImportOptions{SkipInvalid: true}))
	if res.Created != 3 || res.Rejected != 1 || res.Rows[0].Action != medmatch.ActionCreate {
		t.Fatalf("skip-invalid import = %+v; want 3 created, 1 rejected", res)
	}
	// Update by external id.
	x := Achievement("", instA.Institution)
	x.ExternalID = "SRC-7"
	res = must[*medmatch.ImportResult](t)(s.Import(ctx, organizer, []medmatch.Record{x}, medmatch.ImportOptions{}))
	id := res.Rows[0].ID
	y := Achievement("", instA.Institution)
	y.ExternalID = "SRC-7"
	y.Title = "更新后的标题"
	res = must[*medmatch.ImportResult](t)(s.Import(ctx, organizer, []medmatch.Record{y}, medmatch.ImportOptions{}))
	if res.Updated != 1 || res.Rows[0].ID != id {
		t.Fatalf("re-import by external id = %+v; want update of %s", res.Rows, id)
	}
	r := must[medmatch.Record](t)(s.Get(ctx, organizer, medmatch.KindAchievement, id))
	if r.(*medmatch.Achievement).Title != "更新后的标题" || r.Base().Version != 2 {
		t.Fatalf("updated record = %q v%d; want new title v2", r.(*medmatch.Achievement).Title, r.Base().Version)
	}
	// IfEmpty: the store is not empty now.
	res = must[*medmatch.ImportResult](t)(s.Import(ctx, organizer, []medmatch.Record{good("ach-z")}, medmatch.ImportOptions{IfEmpty: true}))
	if !res.Skipped || res.Created != 0 {
		t.Fatalf("IfEmpty on a non-empty store = %+v; want skipped", res)
	}
	_, err := s.Import(ctx, anon, []medmatch.Record{good("ach-q")}, medmatch.ImportOptions{})
	code(t, err, medmatch.EUNAUTHORIZED)
}

func testKeys(t *testing.T, s medmatch.Store) {
	ctx := context.Background()
	k, secret, err := medmatch.NewKey(ent1, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	code(t, s.CreateKey(ctx, organizer, k), medmatch.EFORBIDDEN)
	code(t, s.CreateKey(ctx, anon, k), medmatch.EUNAUTHORIZED)
	code(t, s.CreateKey(ctx, admin, k), "")
	got := must[*medmatch.Key](t)(s.KeyByHash(ctx, medmatch.HashKey(secret)))
	if got.ID != k.ID || got.Viewer().Enterprise != "ent-1" || got.Role != medmatch.RoleEnterprise {
		t.Fatalf("KeyByHash = %+v; want %+v", got, k)
	}
	_, err = s.KeyByHash(ctx, medmatch.HashKey(secret+"x"))
	code(t, err, medmatch.ENOTFOUND)
	bad := &medmatch.Key{ID: "key-x", Role: medmatch.RoleEnterprise, Hash: "h"}
	code(t, s.CreateKey(ctx, admin, bad), medmatch.EINVALID)
}

func testConcurrent(t *testing.T, s medmatch.Store) {
	ctx := context.Background()
	must[medmatch.Record](t)(s.Create(ctx, organizer, Achievement("ach-hot", instA.Institution)))
	const writers, each = 8, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	conflicts, ok := 0, 0
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := s.Create(ctx, organizer, Achievement(fmt.Sprintf("ach-w%d-%d", w, i), instA.Institution)); err != nil {
					t.Error(err)
				}
				// Read-modify-write with the version: exactly one writer wins each round.
				r, err := s.Get(ctx, organizer, medmatch.KindAchievement, "ach-hot")
				if err != nil {
					t.Error(err)
					return
				}
				a := r.(*medmatch.Achievement)
				a.Summary = fmt.Sprintf("w%d-%d", w, i)
				_, err = s.Update(ctx, organizer, a)
				mu.Lock()
				switch medmatch.ErrorCode(err) {
				case "":
					ok++
				case medmatch.ECONFLICT:
					conflicts++
				default:
					t.Error(err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r := must[medmatch.Record](t)(s.Get(ctx, organizer, medmatch.KindAchievement, "ach-hot"))
	if r.Base().Version != int64(ok+1) || ok+conflicts != writers*each {
		t.Fatalf("version %d after %d successful and %d conflicting updates; want %d", r.Base().Version, ok, conflicts, ok+1)
	}
	c := must[map[medmatch.Kind]int](t)(s.Counts(ctx))
	if c[medmatch.KindAchievement] != writers*each+1 {
		t.Fatalf("count = %d; want %d", c[medmatch.KindAchievement], writers*each+1)
	}
	// Sequence numbers are unique and dense enough to order every write.
	chs := must[[]medmatch.Change](t)(s.Changes(ctx, 0, 10000))
	seen := map[uint64]bool{}
	for _, ch := range chs {
		if seen[ch.Seq] {
			t.Fatalf("duplicate sequence number %d", ch.Seq)
		}
		seen[ch.Seq] = true
	}
	if len(chs) != 1+writers*each+ok {
		t.Fatalf("%d changes; want %d", len(chs), 1+writers*each+ok)
	}
}

func testDeletes(t *testing.T, s medmatch.Store) {
	seed(t, s)
	ctx := context.Background()
	code(t, s.Delete(ctx, organizer, medmatch.KindEnterprise, "ent-2"), medmatch.ECONFLICT)
	code(t, s.Delete(ctx, organizer, medmatch.KindDemand, "dem-priv2"), "")
	code(t, s.Delete(ctx, organizer, medmatch.KindEnterprise, "ent-2"), "")
	c := must[map[medmatch.Kind]int](t)(s.Counts(ctx))
	if c[medmatch.KindEnterprise] != 1 || c[medmatch.KindDemand] != 2 {
		t.Fatalf("counts after deletes = %v; want 1 enterprise, 2 demands", c)
	}
	p := must[*medmatch.Page](t)(s.List(ctx, ent2, medmatch.KindDemand, medmatch.ListOptions{}))
	if p.Total != 1 {
		t.Fatalf("ent-2 sees %d demands after its own was deleted; want 1 (public)", p.Total)
	}
}

// Taxonomy is the taxonomy stores under test validate with.
func Taxonomy() *medmatch.Taxonomy { return dict.MustTaxonomy() }
