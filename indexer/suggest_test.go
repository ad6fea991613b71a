package indexer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/indexer"
)

func TestSuggest(t *testing.T) {
	e := open(t, true)
	ctx := context.Background()
	<-e.ix.SuggestionsReady()
	cases := []struct {
		prefix string
		want   string // a suggestion text that must be among the results
	}{
		{"脑起", "脑起搏器"},
		{"naoqibo", "脑起搏器"},
		{"nqbq", "脑起搏器"},
		{"NaoQiBo", "脑起搏器"},
		{"脑qi", "脑起搏器"},
		{"心肌梗", "心肌梗死"},
		{"xinjigengsi", "心肌梗死"},
		{"东岚", "东岚医科大学附属第一医院"},
		{"dlyk", "东岚医科大学附属第一医院"},
		{"可充电双通道", "可充电双通道脑起搏器系统（支持远程程控）"},
		{"car-t", "CAR-T"},
	}
	for _, c := range cases {
		got, err := e.ix.Suggest(ctx, anon, c.prefix, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ts []string
		for _, s := range got {
			ts = append(ts, s.Text)
		}
		found := false
		for _, x := range ts {
			found = found || strings.EqualFold(x, c.want)
		}
		if !found {
			t.Errorf("Suggest(%q) = %v; want %q among them", c.prefix, ts, c.want)
		}
	}
	if got, _ := e.ix.Suggest(ctx, anon, "", 5); len(got) != 0 {
		t.Errorf("Suggest(\"\") = %v; want none", got)
	}
	if _, err := e.ix.Suggest(ctx, anon, "x", 99); medmatch.ErrorCode(err) != medmatch.EINVALID {
		t.Errorf("limit 99: %v; want invalid", err)
	}
}

// TestSuggestVisibility: a private demand's title is suggested to its
// enterprise and organizers only, and follows updates and deletes.
func TestSuggestVisibility(t *testing.T) {
	e := open(t, true)
	ctx := context.Background()
	<-e.ix.SuggestionsReady()
	mk := func(title string) {
		t.Helper()
		d := &medmatch.Demand{Meta: medmatch.Meta{ID: "dem-secret"}, EnterpriseID: "ent-001", Title: title,
			Description: "机密", Visibility: medmatch.DemandPrivate}
		if _, err := e.store.Import(ctx, organizer, []medmatch.Record{d}, medmatch.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := e.ix.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	has := func(v medmatch.Viewer, prefix, text string) bool {
		got, err := e.ix.Suggest(ctx, v, prefix, 20)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range got {
			if s.Text == text {
				return true
			}
		}
		return false
	}
	mk("绝密翡翠项目甲")
	own := medmatch.Viewer{Role: medmatch.RoleEnterprise, Enterprise: "ent-001"}
	other := medmatch.Viewer{Role: medmatch.RoleEnterprise, Enterprise: "ent-002"}
	for _, c := range []struct {
		v    medmatch.Viewer
		want bool
	}{{own, true}, {organizer, true}, {other, false}, {anon, false}} {
		for _, p := range []string{"绝密翡", "juemifeicui", "jmfc"} {
			if got := has(c.v, p, "绝密翡翠项目甲"); got != c.want {
				t.Errorf("viewer %+v, prefix %s: suggested %v; want %v", c.v, p, got, c.want)
			}
		}
	}
	mk("绝密翡翠项目乙")
	if has(own, "绝密翡", "绝密翡翠项目甲") || !has(own, "绝密翡", "绝密翡翠项目乙") {
		t.Errorf("after an update the old title is suggested or the new one is not")
	}
	if err := e.store.Delete(ctx, organizer, medmatch.KindDemand, "dem-secret"); err != nil {
		t.Fatal(err)
	}
	if err := e.ix.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if has(organizer, "绝密", "绝密翡翠项目乙") {
		t.Errorf("a deleted record is still suggested")
	}
}

// TestSuggestAfterReopen: suggestions load in the background after an
// existing index is opened, including records changed meanwhile.
func TestSuggestAfterReopen(t *testing.T) {
	e := open(t, true)
	ctx := context.Background()
	e.ix.Close()
	ix, err := indexer.Open(ctx, indexer.Dir(e.dir), e.store, indexer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	d := &medmatch.Demand{Meta: medmatch.Meta{ID: "dem-new"}, EnterpriseID: "ent-001", Title: "琥珀计划新需求", Description: "x"}
	if _, err := e.store.Create(ctx, organizer, d); err != nil {
		t.Fatal(err)
	}
	if err := ix.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	<-ix.SuggestionsReady()
	for _, p := range []string{"可充电双通道", "琥珀计划"} {
		got, _ := ix.Suggest(ctx, anon, p, 5)
		if len(got) == 0 {
			t.Errorf("after reopening, Suggest(%q) = none", p)
		}
	}
}
