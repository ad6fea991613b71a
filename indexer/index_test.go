package indexer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/fixtures"
	"github.com/medmatch/medmatch/indexer"
)

type env struct {
	dir   string
	store *bolt.Store
	ix    *indexer.Index
}

// open returns a store and index in a temp dir, optionally loaded with the
// demo catalogue.
func open(tb testing.TB, demo bool) *env {
	tb.Helper()
	dir := tb.TempDir()
	s, err := bolt.Open(dir, bolt.Options{Taxonomy: dict.MustTaxonomy()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if demo {
		recs, err := fixtures.Records()
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := s.Import(context.Background(), medmatch.System, recs, medmatch.ImportOptions{}); err != nil {
			tb.Fatal(err)
		}
	}
	ix, err := indexer.Open(context.Background(), indexer.Dir(dir), s, indexer.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ix.Close() })
	return &env{dir, s, ix}
}

var (
	anon      = medmatch.Viewer{}
	organizer = medmatch.Viewer{Role: medmatch.RoleOrganizer}
)

func ids(res *indexer.Result) []string {
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.ID)
	}
	return out
}

func TestDemoSearch(t *testing.T) {
	e := open(t, true)
	ctx := context.Background()
	res, err := e.ix.Search(ctx, anon, indexer.Request{Query: "脑起搏器"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) == 0 || res.Hits[0].ID != "ach-0001" {
		t.Fatalf("Search(脑起搏器) = %v; want ach-0001 first", ids(res))
	}
	if hl := res.Hits[0].Highlights["title"]; len(hl) == 0 || !strings.Contains(hl[0], "<mark>脑起搏器</mark>") {
		t.Fatalf("title highlight = %q; want <mark>脑起搏器</mark>", hl)
	}
}

func TestFollowAndVisibility(t *testing.T) {
	e := open(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.ix.Follow(ctx)
	mk := func(r medmatch.Record) uint64 {
		t.Helper()
		if _, err := e.store.Create(ctx, organizer, r); err != nil {
			t.Fatal(err)
		}
		h, _ := e.store.Head(ctx)
		wctx, c := context.WithTimeout(ctx, 5*time.Second)
		defer c()
		if err := e.ix.WaitFor(wctx, h); err != nil {
			t.Fatalf("index did not catch up to %d: %v", h, err)
		}
		return h
	}
	mk(&medmatch.Enterprise{Meta: medmatch.Meta{ID: "ent-1"}, Name: "岚芯医疗"})
	mk(&medmatch.Enterprise{Meta: medmatch.Meta{ID: "ent-2"}, Name: "澄源生物"})
	mk(&medmatch.Demand{Meta: medmatch.Meta{ID: "dem-1"}, EnterpriseID: "ent-1", Title: "寻找可降解镁合金骨钉", Description: "用于骨折内固定的可降解镁合金骨钉技术", Visibility: medmatch.DemandPrivate})
	mk(&medmatch.Demand{Meta: medmatch.Meta{ID: "dem-2"}, EnterpriseID: "ent-2", Title: "公开需求：镁合金", Description: "寻找可降解镁合金心血管支架"})
	for _, c := range []struct {
		v    medmatch.Viewer
		want string
	}{
		{anon, "[dem-2]"},
		{medmatch.Viewer{Role: medmatch.RoleEnterprise, Enterprise: "ent-2"}, "[dem-2]"},
		{medmatch.Viewer{Role: medmatch.RoleEnterprise, Enterprise: "ent-1"}, "[dem-1 dem-2]"},
		{organizer, "[dem-1 dem-2]"},
	} {
		res, err := e.ix.Search(ctx, c.v, indexer.Request{Query: "镁合金", Kinds: []medmatch.Kind{medmatch.KindDemand}})
		if err != nil {
			t.Fatal(err)
		}
		got := ids(res)
		sortStrings(got)
		if fmt.Sprint(got) != c.want || res.Total != uint64(len(got)) {
			t.Errorf("viewer %+v: hits %v total %d; want %s", c.v, got, res.Total, c.want)
		}
	}
	// An update and a delete reach the index.
	if err := e.store.Delete(ctx, organizer, medmatch.KindDemand, "dem-2"); err != nil {
		t.Fatal(err)
	}
	h, _ := e.store.Head(ctx)
	wctx, c := context.WithTimeout(ctx, 5*time.Second)
	defer c()
	if err := e.ix.WaitFor(wctx, h); err != nil {
		t.Fatal(err)
	}
	res, _ := e.ix.Search(ctx, organizer, indexer.Request{Query: "镁合金"})
	if fmt.Sprint(ids(res)) != "[dem-1]" {
		t.Fatalf("after delete: %v; want [dem-1]", ids(res))
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestCommonWords: a word most records contain (医院 is in the institution
// of most demo achievements) only adds score; it does not make every such
// record a hit when the query has a rarer word.
func TestCommonWords(t *testing.T) {
	e := open(t, true)
	ctx := context.Background()
	rare, err := e.ix.Search(ctx, anon, indexer.Request{Query: "脑起搏器"})
	if err != nil {
		t.Fatal(err)
	}
	both, err := e.ix.Search(ctx, anon, indexer.Request{Query: "医院 脑起搏器"})
	if err != nil {
		t.Fatal(err)
	}
	all, err := e.ix.Search(ctx, anon, indexer.Request{Query: "医院 脑起搏器", Common: -1})
	if err != nil {
		t.Fatal(err)
	}
	if both.Total != rare.Total || all.Total <= 5*both.Total {
		t.Fatalf("totals: 脑起搏器 %d, 医院 脑起搏器 %d (without the rule %d); want the first two equal and the third far larger", rare.Total, both.Total, all.Total)
	}
	if both.Hits[0].ID != "ach-0001" {
		t.Fatalf("医院 脑起搏器: first hit %s; want ach-0001", both.Hits[0].ID)
	}
	// A query of common words only still finds records.
	only, err := e.ix.Search(ctx, anon, indexer.Request{Query: "医院"})
	if err != nil || only.Total < 100 {
		t.Fatalf("医院 alone: %v hits, %v; want hundreds", only.Total, err)
	}
}
