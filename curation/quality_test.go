package curation_test

import (
	"context"
	"testing"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/curation"
	"github.com/medmatch/medmatch/dict"
)

func TestCheck(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	s, err := bolt.Open(t.TempDir(), bolt.Options{Taxonomy: dict.MustTaxonomy(), Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	org := medmatch.Viewer{Role: medmatch.RoleOrganizer, KeyID: "org"}
	long := "用于股骨颈骨折内固定的可降解镁合金空心加压骨钉，十二个月内完全降解，免除二次取出手术，已完成大动物实验与型式检验，正在准备注册申报材料。"
	complete := &medmatch.Achievement{Meta: medmatch.Meta{ID: "ach-ok"}, Title: "可降解镁合金骨钉", Summary: "免二次手术的可降解骨钉", Description: long,
		Institution: "东岚骨科医院", Team: []string{"骨科材料组"}, Specialty: "骨科", Fields: []string{"生物材料"}, Maturity: medmatch.MaturityPreclinical,
		IP: &medmatch.IP{Type: medmatch.IPInvention, Status: medmatch.IPGranted, Numbers: []string{"CN1"}}, TransferModes: []medmatch.TransferMode{medmatch.TransferLicense},
		Price: &medmatch.Price{Min: 50, Max: 80}, Region: "浙江", Broker: "TB-1"}
	bare := &medmatch.Achievement{Meta: medmatch.Meta{ID: "ach-bare"}, Title: "心电贴", Description: "单导联心电贴。", Institution: "云岫市中心医院",
		Specialty: "心血管", Fields: []string{"医疗器械"}, Maturity: medmatch.MaturityMarketed}
	granted := *complete
	granted.Meta = medmatch.Meta{ID: "ach-granted"}
	granted.IP = &medmatch.IP{Type: medmatch.IPInvention, Status: medmatch.IPGranted}
	granted.Price = &medmatch.Price{Min: 1, Max: 500}
	for _, r := range []medmatch.Record{complete, bare, &granted,
		&medmatch.Enterprise{Meta: medmatch.Meta{ID: "ent-1"}, Name: "岚芯医疗"},
		&medmatch.Demand{Meta: medmatch.Meta{ID: "dem-late"}, EnterpriseID: "ent-1", Title: "找骨钉", Description: "寻找可降解骨钉。", Deadline: "2026-06-30", Status: medmatch.DemandOpen},
	} {
		if _, err := s.Create(ctx, org, r); err != nil {
			t.Fatal(err)
		}
	}
	// A record written "later" than the report's now looks written in the future.
	clock = clock.AddDate(0, 0, 10)
	future := *complete
	future.Meta = medmatch.Meta{ID: "ach-future"}
	if _, err := s.Create(ctx, org, &future); err != nil {
		t.Fatal(err)
	}

	rep, err := curation.Check(ctx, s, org, curation.Options{Now: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{}
	for _, is := range rep.Issues {
		has[is.ID+" "+is.Class+" "+is.Field] = true
	}
	for _, want := range []string{
		"ach-bare missing summary", "ach-bare missing description", "ach-bare missing ip", "ach-bare missing price",
		"ach-bare missing broker", "ach-bare implausible maturity",
		"ach-granted implausible ip.numbers", "ach-granted implausible price",
		"dem-late implausible deadline", "dem-late missing budget", "ent-1 missing profile",
		"ach-future implausible updated_at",
	} {
		if !has[want] {
			t.Errorf("no issue %q", want)
		}
	}
	for k := range has {
		if len(k) > 7 && k[:7] == "ach-ok " {
			t.Errorf("the complete record has an issue: %s", k)
		}
	}
	if rep.Records != 6 || rep.WithIssues != 5 {
		t.Errorf("records %d with issues %d; want 6 and 5", rep.Records, rep.WithIssues)
	}
	// A year and a half later everything is stale.
	later, err := curation.Check(ctx, s, org, curation.Options{Now: time.Date(2028, 6, 1, 0, 0, 0, 0, time.UTC), StaleMonths: 12})
	if err != nil {
		t.Fatal(err)
	}
	if later.ByClass[curation.Stale] != 6 {
		t.Errorf("stale after 19 months: %d; want 6", later.ByClass[curation.Stale])
	}
	var inst *curation.OwnerCount
	for i := range rep.ByOwner {
		if rep.ByOwner[i].Owner == "东岚骨科医院" {
			inst = &rep.ByOwner[i]
		}
	}
	if inst == nil || inst.Records != 3 || inst.WithIssues != 2 {
		t.Errorf("东岚骨科医院: %+v; want 3 records, 2 with issues", inst)
	}
	for _, c := range []struct {
		v    medmatch.Viewer
		opt  curation.Options
		code string
	}{
		{medmatch.Viewer{}, curation.Options{}, medmatch.EUNAUTHORIZED},
		{medmatch.Viewer{Role: medmatch.RoleEnterprise, Enterprise: "ent-1"}, curation.Options{}, medmatch.EFORBIDDEN},
		{org, curation.Options{StaleMonths: -1}, medmatch.EINVALID},
	} {
		if _, err := curation.Check(ctx, s, c.v, c.opt); medmatch.ErrorCode(err) != c.code {
			t.Errorf("Check(%+v, %+v): %v; want %s", c.v, c.opt, err, c.code)
		}
	}
}
