package indexer_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/fixtures"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/storetest"
)

// all pages through req and returns every hit id, failing on a repeat.
func all(t *testing.T, ix *indexer.Index, v medmatch.Viewer, req indexer.Request) ([]string, []indexer.Hit) {
	t.Helper()
	req.Limit = 37
	var ids []string
	var hits []indexer.Hit
	seen := map[string]bool{}
	for page := 0; ; page++ {
		res, err := ix.Search(context.Background(), v, req)
		if err != nil {
			t.Fatalf("Search(%+v): %v", req, err)
		}
		for _, h := range res.Hits {
			k := string(h.Kind) + "/" + h.ID
			if seen[k] {
				t.Fatalf("%s on two pages", k)
			}
			seen[k] = true
			ids = append(ids, k)
			hits = append(hits, h)
		}
		if res.NextCursor == "" {
			if uint64(len(ids)) != res.Total {
				t.Fatalf("paged %d hits; total says %d", len(ids), res.Total)
			}
			return ids, hits
		}
		if page > 100 {
			t.Fatal("paging does not end")
		}
		req.Cursor = res.NextCursor
	}
}

// publicAchievements returns the demo achievements anonymous users see.
func publicAchievements(t *testing.T) []*medmatch.Achievement {
	recs, err := fixtures.Records()
	if err != nil {
		t.Fatal(err)
	}
	var out []*medmatch.Achievement
	for _, r := range recs {
		if a, ok := r.(*medmatch.Achievement); ok && a.Status.Listed() && (a.Visibility == "" || a.Visibility == medmatch.VisibilityPublic) {
			out = append(out, a)
		}
	}
	return out
}

func lo(a *medmatch.Achievement) (float64, bool) {
	if a.Price == nil || (a.Price.Min == 0 && a.Price.Max == 0) {
		return 0, false
	}
	if a.Price.Min == 0 {
		return a.Price.Max, true
	}
	return a.Price.Min, true
}

func hi(a *medmatch.Achievement) float64 {
	if a.Price.Max == 0 {
		return a.Price.Min
	}
	return a.Price.Max
}

func f(x float64) *float64 { return &x }

func TestFilters(t *testing.T) {
	e := open(t, true)
	ach := []medmatch.Kind{medmatch.KindAchievement}
	cases := []struct {
		name string
		req  indexer.Request
		keep func(a *medmatch.Achievement) bool
	}{
		{"one specialty", indexer.Request{Filters: map[string][]string{"specialty": {"骨科"}}},
			func(a *medmatch.Achievement) bool { return a.Specialty == "骨科" }},
		{"two specialties (OR), by synonym", indexer.Request{Filters: map[string][]string{"specialty": {"骨外科", "康复"}}},
			func(a *medmatch.Achievement) bool { return a.Specialty == "骨科" || a.Specialty == "康复" }},
		{"specialty AND maturity", indexer.Request{Filters: map[string][]string{"specialty": {"神经"}, "maturity": {"clinical_trial", "registered"}}},
			func(a *medmatch.Achievement) bool {
				return a.Specialty == "神经" && (a.Maturity == "clinical_trial" || a.Maturity == "registered")
			}},
		{"field and transfer mode", indexer.Request{Filters: map[string][]string{"fields": {"IVD"}, "transfer_modes": {"license"}}},
			func(a *medmatch.Achievement) bool {
				return strings.Contains(fmt.Sprint(a.Fields), "体外诊断") && strings.Contains(fmt.Sprint(a.TransferModes), "license")
			}},
		{"ip granted", indexer.Request{Filters: map[string][]string{"ip_status": {"granted"}}},
			func(a *medmatch.Achievement) bool { return a.IP != nil && a.IP.Status == "granted" }},
		{"negotiable price band", indexer.Request{Filters: map[string][]string{"price_band": {"negotiable"}}},
			func(a *medmatch.Achievement) bool { _, ok := lo(a); return !ok && a.Price != nil && a.Price.Negotiable }},
		{"price range overlaps 100-300", indexer.Request{PriceMin: f(100), PriceMax: f(300)},
			func(a *medmatch.Achievement) bool { l, ok := lo(a); return ok && l <= 300 && hi(a) >= 100 }},
		{"price at least 1000", indexer.Request{PriceMin: f(1000)},
			func(a *medmatch.Achievement) bool { _, ok := lo(a); return ok && hi(a) >= 1000 }},
		{"query syntax filter and words", indexer.Request{Query: "specialty:骨科 -region:浙江"},
			func(a *medmatch.Achievement) bool { return a.Specialty == "骨科" && a.Region != "浙江" }},
		{"updated in a window that holds all", indexer.Request{UpdatedFrom: ptime(time.Now().Add(-time.Hour))},
			func(a *medmatch.Achievement) bool { return true }},
		{"updated in a window that holds none", indexer.Request{UpdatedTo: ptime(time.Now().Add(-time.Hour))},
			func(a *medmatch.Achievement) bool { return false }},
	}
	for _, c := range cases {
		var want []string
		for _, a := range publicAchievements(t) {
			if c.keep(a) {
				want = append(want, "achievement/"+a.ID)
			}
		}
		c.req.Kinds = ach
		got, _ := all(t, e.ix, anon, c.req)
		sort.Strings(got)
		sort.Strings(want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %d hits %v; want %d %v", c.name, len(got), trim(got), len(want), trim(want))
		}
		if len(want) == 0 && c.name != "updated in a window that holds none" {
			t.Errorf("%s: the fixtures give no record to check", c.name)
		}
	}
}

func ptime(t time.Time) *time.Time { return &t }

func trim(s []string) []string {
	if len(s) > 6 {
		return append(s[:6:6], "…")
	}
	return s
}

// TestDisjunctiveFacets: each facet's counts apply every filter but its own.
func TestDisjunctiveFacets(t *testing.T) {
	e := open(t, true)
	req := indexer.Request{Kinds: []medmatch.Kind{medmatch.KindAchievement},
		Filters: map[string][]string{"specialty": {"骨科"}, "maturity": {"prototype", "preclinical"}},
		Facets:  []string{"specialty", "maturity", "region", "price_band"}}
	res, err := e.ix.Search(context.Background(), anon, req)
	if err != nil {
		t.Fatal(err)
	}
	spec, mat, reg, band := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	for _, a := range publicAchievements(t) {
		okS := a.Specialty == "骨科"
		okM := a.Maturity == "prototype" || a.Maturity == "preclinical"
		if okM {
			spec[a.Specialty]++
		}
		if okS {
			mat[string(a.Maturity)]++
		}
		if okS && okM {
			reg[a.Region]++
			if _, ok := lo(a); ok || (a.Price != nil && a.Price.Negotiable) {
				band["x"]++
			}
		}
	}
	check := func(name string, want map[string]int) {
		got := map[string]int{}
		for _, fv := range res.Facets[name] {
			got[fv.Value] = fv.Count
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("facet %s = %v; want %v", name, got, want)
		}
	}
	check("specialty", spec)
	check("maturity", mat)
	check("region", reg)
	n := 0
	for _, fv := range res.Facets["price_band"] {
		n += fv.Count
	}
	if n != band["x"] {
		t.Errorf("price bands count %d records; want %d", n, band["x"])
	}
	if res.Total == 0 || res.Total != uint64(mat["prototype"]+mat["preclinical"]) {
		t.Errorf("total %d; want the filtered count %d", res.Total, mat["prototype"]+mat["preclinical"])
	}
}

func TestSortAndDeepPaging(t *testing.T) {
	e := open(t, true)
	for _, s := range []string{indexer.SortPrice, indexer.SortPriceDesc, indexer.SortNewest, indexer.SortRelevance} {
		_, hits := all(t, e.ix, anon, indexer.Request{Kinds: []medmatch.Kind{medmatch.KindAchievement}, Sort: s, Query: map[bool]string{true: "检测", false: ""}[s == indexer.SortRelevance]})
		if s != indexer.SortRelevance && len(hits) != len(publicAchievements(t)) {
			t.Errorf("sort %s paged %d hits; want every public achievement (%d)", s, len(hits), len(publicAchievements(t)))
		}
		unpriced := false
		for i := 1; i < len(hits); i++ {
			a, b := hits[i-1].Record.(*medmatch.Achievement), hits[i].Record.(*medmatch.Achievement)
			la, oka := lo(a)
			lb, okb := lo(b)
			switch s {
			case indexer.SortPrice:
				if oka && okb && la > lb || !oka && okb {
					t.Fatalf("sort price: %s (%v) before %s (%v)", a.ID, a.Price, b.ID, b.Price)
				}
			case indexer.SortPriceDesc:
				if oka && okb && hi(a) < hi(b) || !oka && okb {
					t.Fatalf("sort price_desc: %s (%v) before %s (%v)", a.ID, a.Price, b.ID, b.Price)
				}
			case indexer.SortNewest:
				if a.UpdatedAt.Before(b.UpdatedAt) {
					t.Fatalf("sort newest: %s before %s", a.ID, b.ID)
				}
			case indexer.SortRelevance:
				if hits[i-1].Score < hits[i].Score {
					t.Fatalf("relevance: score %v before %v", hits[i-1].Score, hits[i].Score)
				}
			}
			unpriced = unpriced || !okb
		}
		if (s == indexer.SortPrice || s == indexer.SortPriceDesc) && !unpriced {
			t.Errorf("sort %s: no unpriced record reached (they come last)", s)
		}
	}
	// A cursor is tied to its search.
	res, err := e.ix.Search(context.Background(), anon, indexer.Request{Query: "检测", Limit: 2})
	if err != nil || res.NextCursor == "" {
		t.Fatal(res, err)
	}
	_, err = e.ix.Search(context.Background(), anon, indexer.Request{Query: "检测", Limit: 2, Cursor: res.NextCursor, Sort: indexer.SortPrice})
	if medmatch.ErrorCode(err) != medmatch.EINVALID {
		t.Errorf("cursor with another sort: %v; want invalid", err)
	}
}

// TestQueryFeatures runs the query syntax and synonyms over small records.
func TestQueryFeatures(t *testing.T) {
	e := open(t, false)
	ctx := context.Background()
	inst := "东岚医科大学附属第一医院"
	mk := func(id, title, desc string) {
		a := storetest.Achievement(id, inst)
		a.Title, a.Description = title, desc
		if _, err := e.store.Create(ctx, organizer, a); err != nil {
			t.Fatal(err)
		}
	}
	mk("a1", "急性心肌梗死早期预警系统", "基于可穿戴心电贴的风险预测。")
	mk("a2", "冠脉支架", "用于冠心病介入治疗，已完成动物实验。")
	mk("a3", "外周血管支架", "用于下肢动脉，临床试验中。")
	mk("a4", "球囊导管", "药物涂层球囊，用于外周血管。")
	mk("a5", "远程程控平台", "脑深部电刺激的远程程控系统。")
	mk("a6", "程控远程随访", "随访系统，远程与程控分开。")
	if err := e.ix.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		q    string
		op   string
		want string // sorted ids; "!" prefix: an error naming q
	}{
		{"心梗", "", "[a1]"},   // synonym of 心肌梗死
		{"脑起搏器", "", "[a5]"}, // synonym of 脑深部电刺激
		{"支架", "", "[a2 a3]"},
		{"支架 -动物实验", "", "[a3]"},
		{`"远程程控"`, "", "[a5]"}, // phrase: a6 has both words, not together
		{"远程 程控", "", "[a5 a6]"},
		{"title:支架", "", "[a2 a3]"},
		{"description:支架", "", "[]"},
		{"支架 球囊", "and", "[]"},
		{"支架 OR 球囊", "and", "[a2 a3 a4]"},
		{"外周 支架 OR 球囊", "and", "[a3 a4]"},
		{"type:achievement 球囊", "", "[a4]"},
		{"type:demand 球囊", "", "[]"},
		{"的", "", "[]"}, // stop word only
		{`"未闭合`, "", "!"},
		{"colour:红", "", "!"},
		{"specialty:火星科", "", "!"},
		{"OR", "", "!"},
	}
	for _, c := range cases {
		res, err := e.ix.Search(ctx, anon, indexer.Request{Query: c.q, Operator: c.op, Kinds: nil})
		if c.want == "!" {
			var me *medmatch.Error
			if medmatch.ErrorCode(err) != medmatch.EINVALID || !asError(err, &me) || me.Field != "q" {
				t.Errorf("Search(%q) error = %v; want invalid on q", c.q, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Search(%q): %v", c.q, err)
			continue
		}
		var got []string
		for _, h := range res.Hits {
			got = append(got, h.ID)
		}
		sort.Strings(got)
		if g := fmt.Sprint(got); g != c.want && !(c.want == "[]" && len(got) == 0) {
			t.Errorf("Search(%q, %s) = %v; want %s", c.q, c.op, got, c.want)
		}
	}
	// Highlights mark what the synonym matched, and can be turned off.
	res, _ := e.ix.Search(ctx, anon, indexer.Request{Query: "心梗"})
	if len(res.Hits) == 0 || !strings.Contains(strings.Join(res.Hits[0].Highlights["title"], ""), "<mark>心肌梗死</mark>") {
		t.Errorf("心梗 highlights = %v; want <mark>心肌梗死</mark>", res.Hits)
	}
	res, _ = e.ix.Search(ctx, anon, indexer.Request{Query: "心梗", NoHighlight: true})
	if len(res.Hits) == 0 || res.Hits[0].Highlights != nil {
		t.Errorf("NoHighlight still highlights: %v", res.Hits)
	}
}

func asError(err error, me **medmatch.Error) bool {
	e, ok := err.(*medmatch.Error)
	*me = e
	return ok
}

// TestFacetVisibility: facet counts count only what the viewer may read.
func TestFacetVisibility(t *testing.T) {
	e := open(t, true)
	ctx := context.Background()
	count := func(v medmatch.Viewer) int {
		res, err := e.ix.Search(ctx, v, indexer.Request{Kinds: []medmatch.Kind{medmatch.KindDemand}, Facets: []string{"status"}})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, fv := range res.Facets["status"] {
			n += fv.Count
		}
		if uint64(n) != res.Total {
			t.Fatalf("status facet counts %d; total %d", n, res.Total)
		}
		return n
	}
	recs, _ := fixtures.Records()
	pub, priv1 := 0, 0
	var ent string
	for _, r := range recs {
		if d, ok := r.(*medmatch.Demand); ok {
			if d.Visibility == medmatch.DemandPublic {
				pub++
			} else if ent == "" || d.EnterpriseID == ent {
				ent = d.EnterpriseID
				priv1++
			}
		}
	}
	if got := count(anon); got != pub {
		t.Errorf("anonymous demand facet total %d; want %d public", got, pub)
	}
	if got := count(medmatch.Viewer{Role: medmatch.RoleEnterprise, Enterprise: ent}); got != pub+priv1 {
		t.Errorf("%s demand facet total %d; want %d", ent, got, pub+priv1)
	}
}
