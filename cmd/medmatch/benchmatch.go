package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/fixtures"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/internal/corpus"
	"github.com/medmatch/medmatch/matcher"
)

// runBenchMatch measures the matcher at catalogue scale: fitting the
// semantic model (as "medmatch train", in a child process whose peak
// memory is its own) and matching demands with explanations.
func runBenchMatch(ctx context.Context, std IO, args []string) error {
	fset := newFlags("bench match", "[flags]", `
Measures the matcher on a synthetic catalogue recombined from the CSL corpus
(as "medmatch bench"), in a temporary data dir removed afterwards:

  import   --docs achievements (plus the demo catalogue's enterprises and
           demands), written to the store in transactions of 20,000
  index    the index build
  train    "medmatch train --semantic --max-docs FIT --k K" in a child
           process: wall time and peak resident memory (the whole command:
           opening store and index, loading the dictionary, analysing the
           sample, the randomized SVD, storing the model)
  match    every demo demand matched to achievements, top 50 with
           explanations, in process, as an organizer: a first pass (cold:
           candidates folded in) and a second (warm); latency percentiles
  vectors  folded-in vectors cached, their memory, and the model's size

Prints a table on standard output.`, std.Err)
	docs := fset.Int("docs", 1_000_000, "achievements in the catalogue")
	fit := fset.Int("fit-docs", 100_000, "records the semantic model is fitted on")
	k := fset.Int("k", 100, "semantic model dimensions")
	csl := fset.String("csl", envOr("MEDMATCH_CSL", "../shared/data/csl/csl.jsonl"), "path of the CSL csl.jsonl (env MEDMATCH_CSL)")
	cpuprofile := fset.String("cpuprofile", "", "write a CPU profile of the match passes to this file")
	if pos, err := parse(fset, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *docs < 1000 || *fit < 200 || *k < 1 || *k > matcher.MaxK {
		return usagef("want --docs ≥ 1000, --fit-docs ≥ 200 and --k in 1..%d", matcher.MaxK)
	}
	papers, err := readBenchCSL(*csl)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "medmatch-bench-match-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	progress := func(format string, a ...any) { fmt.Fprintf(std.Err, "bench match: "+format+"\n", a...) }
	var rows [][2]string
	row := func(name, format string, a ...any) { rows = append(rows, [2]string{name, fmt.Sprintf(format, a...)}) }

	demo, err := fixtures.Records()
	if err != nil {
		return err
	}
	var meta []*medmatch.Achievement
	var others []medmatch.Record
	var demands []string
	for _, r := range demo {
		switch r := r.(type) {
		case *medmatch.Achievement:
			meta = append(meta, r)
		case *medmatch.Enterprise:
			others = append(others, r)
		case *medmatch.Demand:
			others = append(others, r)
			demands = append(demands, r.ID)
		}
	}
	store, err := openStore(dir)
	if err != nil {
		return err
	}
	closeStore := func() {
		if store != nil {
			store.Close()
			store = nil
		}
	}
	defer closeStore()
	progress("importing %d achievements into %s", *docs, dir)
	start := time.Now()
	if _, err := store.Import(ctx, medmatch.System, others, medmatch.ImportOptions{}); err != nil {
		return err
	}
	gen := corpus.NewGenerator(papers, meta)
	const chunk = 20_000
	for from := 0; from < *docs; from += chunk {
		recs := make([]medmatch.Record, 0, chunk)
		for i := from; i < min(from+chunk, *docs); i++ {
			recs = append(recs, gen.Achievement(i))
		}
		rep, err := store.Import(ctx, medmatch.System, recs, medmatch.ImportOptions{})
		if err != nil {
			return err
		}
		if rep.Rejected > 0 {
			return fmt.Errorf("bench match: %d records rejected", rep.Rejected)
		}
	}
	row("catalogue", "%d achievements recombined from %d CSL papers, %d enterprises and demands from the demo; imported in %s; store %.0f MB",
		*docs, len(papers), len(others), secs(time.Since(start)), mb(fileSize(store.Path())))

	progress("building the index")
	start = time.Now()
	ix, err := indexer.Open(ctx, indexer.Dir(dir), store, indexer.Options{NoSuggestions: true})
	if err != nil {
		return err
	}
	n, _ := ix.DocCount()
	row("index", "%d docs in %s (%.0f docs/s); %.0f MB", n, secs(time.Since(start)), float64(n)/time.Since(start).Seconds(), mb(dirSize(indexer.Dir(dir))))
	ix.Close()
	closeStore()
	debug.FreeOSMemory()

	progress("medmatch train --semantic --max-docs %d --k %d (child process)", *fit, *k)
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, exe, "train", "--semantic", "--max-docs", fmt.Sprint(*fit), "--k", fmt.Sprint(*k), "--data", dir, "--log-level", "info")
	cmd.Stderr = std.Err
	var stdout strings.Builder
	cmd.Stdout = &stdout
	start = time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	// The child's own peak: VmHWM of its /proc status, read until it exits
	// (its rusage would count this process's memory, shared until exec).
	var hwmKB int64
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(50 * time.Millisecond)
	for waiting := true; waiting; {
		select {
		case err = <-done:
			waiting = false
		case <-tick.C:
			if kb := statusKB(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid), "VmHWM"); kb > hwmKB {
				hwmKB = kb
			}
		}
	}
	tick.Stop()
	if err != nil {
		return fmt.Errorf("bench match: train: %w", err)
	}
	took := time.Since(start)
	out := stdout.String()
	peak := fmt.Sprintf("%.0f MB", float64(hwmKB)/1024)
	row("train --semantic", "%s wall, peak RSS %s: %s", secs(took), peak, strings.TrimSpace(strings.Split(out, "\n")[0]))

	// Match.
	if store, err = openStore(dir); err != nil {
		return err
	}
	if ix, err = indexer.Open(ctx, indexer.Dir(dir), store, indexer.Options{NoSuggestions: true}); err != nil {
		return err
	}
	defer ix.Close()
	m, err := matcher.New(ctx, store, ix, matcher.Options{})
	if err != nil {
		return err
	}
	arts, err := store.Artifacts(ctx, matcher.ArtifactModel)
	if err != nil || len(arts) == 0 {
		return fmt.Errorf("bench match: no semantic model stored (%v)", err)
	}
	organizer := medmatch.Viewer{Role: medmatch.RoleOrganizer}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heap0 := ms.HeapAlloc
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return usagef("--cpuprofile: %v", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	pass := func(name string) error {
		progress("%s: %d demands", name, len(demands))
		var lat []time.Duration
		explained := 0
		for _, id := range demands {
			t := time.Now()
			res, err := m.Match(ctx, organizer, matcher.Request{Source: &medmatch.Ref{Kind: medmatch.KindDemand, ID: id}, Limit: 50})
			if err != nil {
				return err
			}
			lat = append(lat, time.Since(t))
			for _, mt := range res.Matches {
				if len(mt.Explanation.Features) == len(matcher.Features) {
					explained++
				}
			}
		}
		slices.Sort(lat)
		row(name, "%d demands, top 50 with explanations (%d explained matches): p50 %s  p90 %s  p99 %s  max %s",
			len(demands), explained, msec(pct(lat, 50)), msec(pct(lat, 90)), msec(pct(lat, 99)), msec(lat[len(lat)-1]))
		return nil
	}
	if err := pass("match, cold (just started)"); err != nil {
		return err
	}
	progress("folding the catalogue into the semantic model")
	start = time.Now()
	folded, err := m.Warm(ctx)
	if err != nil {
		return err
	}
	row("fold-in", "%d records folded in in %s (what serve does in the background after start or a new model)", folded, secs(time.Since(start)))
	if err := pass("match, warm (steady state)"); err != nil {
		return err
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	cached := m.CachedVectors()
	row("vectors", "%d folded-in vectors cached: %.1f MB of heap (%.0f B each, of which k=%d float32 = %d B are the vector)",
		cached, mb(int64(ms.HeapAlloc)-int64(heap0)), float64(int64(ms.HeapAlloc)-int64(heap0))/float64(max(1, cached)), *k, 4**k)
	row("semantic model", "v%d: %.1f MB in the store (%s)", arts[0].Version, mb(int64(arts[0].Size)), arts[0].Note)
	rss, hwm := procMemory()
	row("rss", "%s now, peak %s (this process: import, index build, matching)", rss, hwm)

	w := tabwriter.NewWriter(std.Out, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\n", r[0], r[1])
	}
	w.Flush()
	return nil
}

// statusKB reads one "Name:   N kB" line of a /proc status file (0 if absent).
func statusKB(path, name string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == name {
			var n int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &n)
			return n
		}
	}
	return 0
}
