package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/fixtures"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/internal/corpus"
	"github.com/medmatch/medmatch/matcher"
	"github.com/medmatch/medmatch/matcher/roadshow"
)

// runBenchRoadshow measures planning a large roadshow.
func runBenchRoadshow(ctx context.Context, std IO, args []string) error {
	fset := newFlags("bench roadshow", "[flags]", `
Measures planning a roadshow on a synthetic catalogue recombined from the
CSL corpus (as "medmatch bench"), in a temporary data dir: --docs
achievements and --enterprises enterprises (a profile of its own and a
demand on one of ten topics, all from CSL abstracts), an event inviting every enterprise (each available in
about 70% of the slots, quota 3) to see --projects projects in --slots
slots of --tables tables. After the semantic model is fitted and the
catalogue folded in (the steady state of a server), the plan — screening,
selection, recommendations and the schedule — is timed --runs times.`, std.Err)
	docs := fset.Int("docs", 100_000, "achievements in the pool")
	nent := fset.Int("enterprises", 200, "invited enterprises")
	projects := fset.Int("projects", 20, "projects to present")
	slots := fset.Int("slots", 12, "meeting slots")
	tables := fset.Int("tables", 10, "tables per slot")
	runs := fset.Int("runs", 3, "planning runs")
	csl := fset.String("csl", envOr("MEDMATCH_CSL", "../shared/data/csl/csl.jsonl"), "path of the CSL csl.jsonl (env MEDMATCH_CSL)")
	if pos, err := parse(fset, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *docs < 100 || *nent < 1 || *projects < 1 || *slots < 1 || *slots > 48 || *tables < 0 || *runs < 1 {
		return usagef("want --docs ≥ 100, --enterprises ≥ 1, --projects ≥ 1, --slots 1..48, --tables ≥ 0, --runs ≥ 1")
	}
	papers, err := readBenchCSL(*csl)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "medmatch-bench-roadshow-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	progress := func(format string, a ...any) { fmt.Fprintf(std.Err, "bench roadshow: "+format+"\n", a...) }
	var rows [][2]string
	row := func(name, format string, a ...any) { rows = append(rows, [2]string{name, fmt.Sprintf(format, a...)}) }

	demo, err := fixtures.Records()
	if err != nil {
		return err
	}
	var meta []*medmatch.Achievement
	var entMeta []*medmatch.Enterprise
	for _, r := range demo {
		switch r := r.(type) {
		case *medmatch.Achievement:
			meta = append(meta, r)
		case *medmatch.Enterprise:
			entMeta = append(entMeta, r)
		}
	}
	store, err := openStore(dir)
	if err != nil {
		return err
	}
	defer store.Close()
	progress("importing %d achievements and %d enterprises", *docs, *nent)
	// Invited enterprises share interests, as at a themed roadshow: each
	// demand is one of ten topic papers; each profile a paper of its own.
	var recs []medmatch.Record
	for i := range *nent {
		p := papers[(i*7)%len(papers)]
		em := entMeta[i%len(entMeta)]
		id := fmt.Sprintf("ent-syn-%04d", i)
		recs = append(recs, &medmatch.Enterprise{Meta: medmatch.Meta{ID: id, Synthetic: true}, Name: fmt.Sprintf("合成企业%04d", i),
			Region: em.Region, Fields: em.Fields, Profile: p.Abstract})
		q := papers[(i%10)*37%len(papers)]
		recs = append(recs, &medmatch.Demand{Meta: medmatch.Meta{ID: fmt.Sprintf("dem-syn-%04d", i), Synthetic: true}, EnterpriseID: id,
			Title: q.Title, Description: q.Abstract})
	}
	if _, err := store.Import(ctx, medmatch.System, recs, medmatch.ImportOptions{}); err != nil {
		return err
	}
	gen := corpus.NewGenerator(papers, meta)
	for from := 0; from < *docs; from += 20_000 {
		var chunk []medmatch.Record
		for i := from; i < min(from+20_000, *docs); i++ {
			chunk = append(chunk, gen.Achievement(i))
		}
		if _, err := store.Import(ctx, medmatch.System, chunk, medmatch.ImportOptions{}); err != nil {
			return err
		}
	}
	progress("indexing")
	start := time.Now()
	ix, err := indexer.Open(ctx, indexer.Dir(dir), store, indexer.Options{NoSuggestions: true})
	if err != nil {
		return err
	}
	defer ix.Close()
	row("catalogue", "%d achievements, %d enterprises with a demand each; indexed in %s", *docs, *nent, secs(time.Since(start)))
	m, err := matcher.New(ctx, store, ix, matcher.Options{})
	if err != nil {
		return err
	}
	progress("fitting the semantic model and folding the catalogue in")
	start = time.Now()
	model, err := m.FitModel(ctx, matcher.FitOptions{MaxDocs: 20_000, Seed: 1})
	if err != nil {
		return err
	}
	if _, err := m.SaveModel(ctx, medmatch.System, model, "bench"); err != nil {
		return err
	}
	if _, err := m.Warm(ctx); err != nil {
		return err
	}
	row("semantic model", "k=%d on 20,000 records, catalogue folded in: %s", model.K, secs(time.Since(start)))

	rng := rand.New(rand.NewPCG(1, 2))
	ev := &medmatch.Event{ID: "evt-bench", Title: "推介会基准", Theme: "医疗器械", Date: "2026-12-10", Projects: *projects,
		SpecialtyCap: max(1, *projects/5), InstitutionCap: max(1, *projects/4), Status: medmatch.EventPublished,
		Rubric: medmatch.Rubric{MinMaturity: medmatch.MaturityPrototype, IPStatuses: []medmatch.IPStatus{medmatch.IPFiled, medmatch.IPGranted}}}
	for s := range *slots {
		t := 9*60 + s*25
		ev.Slots = append(ev.Slots, medmatch.Slot{Start: fmt.Sprintf("%02d:%02d", t/60, t%60), Minutes: 20, Tables: *tables})
	}
	for i := range *nent {
		inv := medmatch.Invitation{EnterpriseID: fmt.Sprintf("ent-syn-%04d", i), Quota: 3}
		for s := range *slots {
			if rng.Float64() < 0.7 {
				inv.Available = append(inv.Available, s)
			}
		}
		if len(inv.Available) == 0 {
			inv.Available = []int{rng.IntN(*slots)}
		}
		ev.Invited = append(ev.Invited, inv)
	}
	organizer := medmatch.Viewer{Role: medmatch.RoleOrganizer}
	if err := store.PutEvent(ctx, organizer, ev); err != nil {
		return err
	}
	pl := &roadshow.Planner{Store: store, Matcher: m}
	var took []time.Duration
	var last *roadshow.Plan
	for r := range *runs {
		progress("planning, run %d of %d", r+1, *runs)
		start := time.Now()
		p, err := pl.Plan(ctx, organizer, ev.ID)
		if err != nil {
			return err
		}
		took = append(took, time.Since(start))
		last = p
	}
	slices.Sort(took)
	row("plan", "screening + selection + recommendations + schedule: best %s, median %s, worst %s over %d runs",
		msec(took[0]), msec(took[len(took)/2]), msec(took[len(took)-1]), len(took))
	sc := last.Schedule
	row("selection", "%d candidates, %d selected; objective %.2f", last.Candidates, len(last.Selected), last.Objective)
	row("schedule", "%d meetings in %d slots × %d tables; fewest per enterprise %d (bound %d, optimal %v); value %.1f of at most %.1f: gap %.1f%%; %d wanted meetings unplaced",
		len(sc.Meetings), *slots, *tables, sc.Min, sc.MinBound, sc.Optimal, sc.Value, sc.UpperBound, 100*sc.Gap, len(sc.Unplaced))
	w := tabwriter.NewWriter(std.Out, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\n", r[0], r[1])
	}
	return w.Flush()
}
