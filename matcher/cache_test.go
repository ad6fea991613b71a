package matcher_test

import (
	"context"
	"testing"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/fixtures"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/internal/redistest"
	"github.com/medmatch/medmatch/matcher"
	"github.com/medmatch/medmatch/redisstore"
)

// TestMatchCache: on the Redis store a repeated match is answered from
// the shared cache, identically; every change its rule names (who asks,
// the source record, a write to a candidate kind, the model) misses.
func TestMatchCache(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rs, err := redisstore.Open(ctx, srv.URL(), redisstore.Options{Taxonomy: dict.MustTaxonomy()})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	recs, err := fixtures.Records()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs.Import(ctx, medmatch.System, recs, medmatch.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	ix, err := indexer.Open(ctx, indexer.Dir(t.TempDir()), rs, indexer.Options{NoSuggestions: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go ix.Follow(fctx)
	m, err := matcher.New(ctx, rs, ix, matcher.Options{})
	if err != nil {
		t.Fatal(err)
	}
	org := medmatch.Viewer{Role: medmatch.RoleOrganizer, KeyID: "org"}
	ent := medmatch.Viewer{Role: medmatch.RoleEnterprise, Enterprise: "ent-001", KeyID: "ent"}
	req := matcher.Request{Source: &medmatch.Ref{Kind: medmatch.KindDemand, ID: "dem-001"}, Limit: 5}
	before := m.CacheStats()
	step := func(what string, v medmatch.Viewer, wantHit bool) *matcher.Result {
		t.Helper()
		prev := m.CacheStats()
		res, err := m.MatchCached(ctx, v, req)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		now := m.CacheStats()
		if hit := now.Hits > prev.Hits; hit != wantHit {
			t.Fatalf("%s: hit = %v; want %v (stats %+v → %+v)", what, hit, wantHit, prev, now)
		}
		return res
	}
	settle := func() {
		head, _ := rs.Head(ctx)
		for ix.Applied() < head {
			time.Sleep(5 * time.Millisecond)
		}
	}
	first := step("first", org, false)
	again := step("again", org, true)
	if len(again.Matches) != len(first.Matches) || len(first.Matches) == 0 {
		t.Fatalf("cached result has %d matches; computed %d", len(again.Matches), len(first.Matches))
	}
	for i := range first.Matches {
		a, b := first.Matches[i], again.Matches[i]
		if a.ID != b.ID || a.Score != b.Score || len(a.Explanation.Features) != len(b.Explanation.Features) {
			t.Fatalf("match %d: cached %s %.4f; computed %s %.4f", i, b.ID, b.Score, a.ID, a.Score)
		}
		if ach, ok := b.Record.(*medmatch.Achievement); !ok || ach.Title != a.Title {
			t.Fatalf("match %d: cached record %#v", i, b.Record)
		}
	}
	step("another viewer", ent, false)
	step("that viewer again", ent, true)

	// Editing the demand misses.
	r, _ := rs.Get(ctx, medmatch.System, medmatch.KindDemand, "dem-001")
	d := r.(*medmatch.Demand)
	d.Description += "另外关注无线充电。"
	if _, err := rs.Update(ctx, org, d); err != nil {
		t.Fatal(err)
	}
	settle()
	step("after editing the demand", org, false)
	step("edited demand again", org, true)

	// A new achievement (a candidate kind) misses; a new team does not.
	a := &medmatch.Achievement{Title: "闭环自适应脑深部电刺激算法平台", Description: "面向帕金森病的闭环自适应脑深部电刺激算法，基于局部场电位实时调节刺激参数。",
		Institution: "东岚医科大学附属第一医院", Specialty: "神经", Fields: []string{"医疗器械"}, Maturity: medmatch.MaturityPrototype}
	if _, err := rs.Create(ctx, org, a); err != nil {
		t.Fatal(err)
	}
	settle()
	res := step("after a new achievement", org, false)
	found := false
	for _, mt := range res.Matches {
		found = found || mt.ID == a.ID
	}
	if !found {
		t.Errorf("the new, closely matching achievement %s is not among the matches after the miss", a.ID)
	}
	tm := &medmatch.Team{Name: "神经调控团队", Institution: "东岚医科大学附属第一医院", Expertise: "闭环神经调控。"}
	if _, err := rs.Create(ctx, org, tm); err != nil {
		t.Fatal(err)
	}
	settle()
	step("after a new team (not a candidate kind)", org, true)

	// A new semantic model misses.
	model, err := m.FitModel(ctx, matcher.FitOptions{K: 16, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.SaveModel(ctx, medmatch.System, model, "cache test"); err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	step("after a new model", org, false)
	if got := m.CacheStats(); got.Hits-before.Hits != 4 || got.Misses-before.Misses != 5 {
		t.Errorf("stats %+v; want 4 hits and 5 misses", got)
	}

	// The embedded store has no shared cache: every call computes.
	bs, err := bolt.Open(t.TempDir(), bolt.Options{Taxonomy: dict.MustTaxonomy()})
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	if _, err := bs.Import(ctx, medmatch.System, recs, medmatch.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	bix, err := indexer.Open(ctx, indexer.Dir(t.TempDir()), bs, indexer.Options{NoSuggestions: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bix.Close()
	bm, err := matcher.New(ctx, bs, bix, matcher.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := bm.MatchCached(ctx, org, req); err != nil {
			t.Fatal(err)
		}
	}
	if st := bm.CacheStats(); st.Hits != 0 || st.Uncached != 2 {
		t.Errorf("embedded store: %+v; want 2 uncached", st)
	}
}
