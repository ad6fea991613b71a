package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/fixtures"
	"github.com/medmatch/medmatch/importer"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/internal/corpus"
)

// benchRestarts is how many times the bench restarts the server.
const benchRestarts = 5

func runBench(ctx context.Context, std IO, args []string) error {
	if len(args) > 0 && args[0] == "match" {
		return runBenchMatch(ctx, std, args[1:])
	}
	if len(args) > 0 && args[0] == "roadshow" {
		return runBenchRoadshow(ctx, std, args[1:])
	}
	if len(args) > 0 && args[0] == "replica" {
		return runBenchReplica(ctx, std, args[1:])
	}
	fset := newFlags("bench", "[flags]", `
Measures the catalogue end to end on records derived from the CSL corpus of
Chinese journal abstracts (../shared/data/README.md; read at run time, never
copied), in a temporary data dir that is removed afterwards:

  import   N achievements of ~1 KB made by recombining the corpus's
           sentences (title: a paper title), with metadata cycled from the
           demo catalogue, through the JSONL importer; the count of distinct
           words against the real abstracts
  index    the first index build, in docs/s
  search   Q searches over HTTP against the real server on 127.0.0.1:0, one
           at a time (limit 10): plain with highlights, faceted and
           filtered, and deep pages through cursors; latency percentiles
  load     --clients concurrent clients for --duration, with highlights:
           queries per second
  suggest  prefixes completed in process: latency percentiles
  restart  5 restarts of the server, each timed until it is ready with the
           index reused (not rebuilt)
  rss      the process's resident memory after the search load

Prints a table on standard output. Exit code 2 when the corpus is missing.`, std.Err)
	docs := fset.Int("docs", 20000, "number of achievement records to import and index")
	queries := fset.Int("queries", 2000, "number of search requests")
	csl := fset.String("csl", envOr("MEDMATCH_CSL", "../shared/data/csl/csl.jsonl"), "path of the CSL csl.jsonl (env MEDMATCH_CSL)")
	clients := fset.Int("clients", 8, "concurrent clients of the load phase")
	duration := fset.Duration("duration", 10*time.Second, "length of the load phase")
	if pos, err := parse(fset, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *docs < 1 {
		return usagef("--docs: must be at least 1, got %d", *docs)
	}
	if *queries < 1 {
		return usagef("--queries: must be at least 1, got %d", *queries)
	}
	papers, err := readBenchCSL(*csl)
	if err != nil {
		return err
	}
	qs := corpus.Queries(papers, indexer.MaxQueryChars)
	if len(qs) == 0 {
		return usagef("--csl: %s has no keywords to make queries from", *csl)
	}
	dir, err := os.MkdirTemp("", "medmatch-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	progress := func(format string, a ...any) { fmt.Fprintf(std.Err, "bench: "+format+"\n", a...) }
	progress("data dir %s; %d papers from %s", dir, len(papers), *csl)

	var rows [][2]string
	row := func(name, format string, a ...any) { rows = append(rows, [2]string{name, fmt.Sprintf(format, a...)}) }

	// (a) Import.
	demo, err := fixtures.Records()
	if err != nil {
		return err
	}
	var meta []*medmatch.Achievement
	for _, r := range demo {
		if a, ok := r.(*medmatch.Achievement); ok {
			meta = append(meta, a)
		}
	}
	recs, textBytes := corpus.Catalogue(papers, meta, *docs)
	jsonl := benchJSONL(recs)
	row("data", "%d achievements recombined from the sentences of %d CSL papers; %.1f MB JSONL; text %.0f B/record", *docs, len(papers), mb(int64(len(jsonl))), float64(textBytes)/float64(*docs))
	if an, err := dict.Default(); err == nil {
		real, syn, all := map[string]bool{}, map[string]bool{}, map[string]bool{}
		for _, p := range papers {
			for _, t := range an.Terms(p.Abstract) {
				real[t] = true
			}
		}
		for i, a := range recs[:min(len(recs), 20000)] {
			for _, t := range an.Terms(a.Description) {
				all[t] = true
				if i < len(papers) {
					syn[t] = true
				}
			}
		}
		row("  distinct words", "%d in %d real abstracts; %d in as many synthetic records; %d in the first %d synthetic", len(real), len(papers), len(syn), len(all), min(len(recs), 20000))
	}
	progress("importing %d records (%.1f MB JSONL)", *docs, mb(int64(len(jsonl))))
	store, err := openStore(dir)
	if err != nil {
		return err
	}
	start := time.Now()
	rep, err := importer.Import(ctx, store, medmatch.System, "bench.jsonl", bytes.NewReader(jsonl), importer.JSONL, importer.Options{})
	took := time.Since(start)
	if err == nil && (rep.Created != *docs || rep.Rejected > 0) {
		err = fmt.Errorf("bench import: created %d, rejected %d of %d: %s", rep.Created, rep.Rejected, *docs, strings.Join(first(rep.Problems(), 3), "; "))
	}
	if err != nil {
		store.Close()
		return err
	}
	row("import", "%s  %.0f records/s  %.1f MB/s  (JSONL parse + validate + 1 bbolt tx); store file %.1f MB",
		secs(took), float64(*docs)/took.Seconds(), mb(int64(len(jsonl)))/took.Seconds(), mb(fileSize(store.Path())))

	// (b) Index build (the first one, as on a fresh data dir).
	progress("loading the dictionary and building the index")
	start = time.Now()
	if _, err := dict.Default(); err != nil {
		store.Close()
		return err
	}
	row("dictionary load", "%s  (once per process; not part of the restarts below)", secs(time.Since(start)))
	start = time.Now()
	ix, err := indexer.Open(ctx, indexer.Dir(dir), store, indexer.Options{})
	took = time.Since(start)
	if err != nil {
		store.Close()
		return err
	}
	n, err := ix.DocCount()
	ix.Close()
	store.Close()
	if err != nil {
		return err
	}
	if n != uint64(*docs) {
		return fmt.Errorf("bench: index holds %d docs; want %d", n, *docs)
	}
	row("index build", "%s  %.0f docs/s  %.1f MB/s of text; index %.1f MB on disk",
		secs(took), float64(*docs)/took.Seconds(), mb(textBytes)/took.Seconds(), mb(dirSize(indexer.Dir(dir))))

	// (c) Search over HTTP against the real server.
	var builds atomic.Int64
	log := slog.New(buildWatch{&builds})
	srv := &Server{Data: dir, Addr: "127.0.0.1:0", Log: log}
	start = time.Now()
	if err := srv.Open(ctx); err != nil {
		return err
	}
	firstOpen := time.Since(start)
	progress("server on http://%s; %d searches of each kind, one at a time", srv.Addr, *queries)
	base := "http://" + srv.Addr + "/api/v1/search?limit=10&q="
	specs := []string{"心血管", "神经", "骨科", "肿瘤", "医学影像", "检验", "康复", "眼科"}
	plain := func(i int) string { return base + url.QueryEscape(qs[i%len(qs)]) }
	faceted := func(i int) string {
		return base + url.QueryEscape(qs[i%len(qs)]) + "&facets=all&specialty=" + url.QueryEscape(specs[i%len(specs)]) + "&price_max=2000"
	}
	for _, ph := range []struct {
		name string
		u    func(int) string
	}{{"search, plain, highlights", plain}, {"search, faceted + filtered", faceted}} {
		lat, hits, returned, err := benchSearch(ctx, ph.u, *queries)
		if err != nil {
			srv.Close()
			return err
		}
		slices.Sort(lat)
		row(ph.name, "p50 %s  p90 %s  p99 %s  max %s  (%d queries; mean total %.0f, returned %.1f)",
			msec(pct(lat, 50)), msec(pct(lat, 90)), msec(pct(lat, 99)), msec(lat[len(lat)-1]), *queries,
			float64(hits)/float64(*queries), float64(returned)/float64(*queries))
	}
	deep, err := benchDeep(ctx, base, qs, *queries)
	if err != nil {
		srv.Close()
		return err
	}
	slices.Sort(deep)
	row("search, deep pages", "p50 %s  p90 %s  p99 %s  max %s  (pages 2-30 through cursors, %d requests)",
		msec(pct(deep, 50)), msec(pct(deep, 90)), msec(pct(deep, 99)), msec(deep[len(deep)-1]), len(deep))
	progress("load: %d clients for %s", *clients, *duration)
	qps, lat, err := benchLoad(ctx, plain, *clients, *duration)
	if err != nil {
		srv.Close()
		return err
	}
	slices.Sort(lat)
	row(fmt.Sprintf("load, %d clients, highlights", *clients), "%.0f queries/s  p50 %s  p99 %s", qps, msec(pct(lat, 50)), msec(pct(lat, 99)))
	var prefixes []string
	for i, a := range recs[:min(len(recs), 2000)] {
		r := []rune(a.Title)
		if n := 1 + i%4; len(r) >= n {
			prefixes = append(prefixes, string(r[:n]))
		}
	}
	prefixes = append(prefixes, "naoqibo", "nqbq", "xinji", "kjd", "zhineng", "ai", "3d")
	var slat []time.Duration
	for i := range 20000 {
		t := time.Now()
		if _, err := srv.index.Suggest(ctx, medmatch.Viewer{}, prefixes[i%len(prefixes)], indexer.DefaultSuggestLimit); err != nil {
			srv.Close()
			return err
		}
		slat = append(slat, time.Since(t))
	}
	slices.Sort(slat)
	row("suggest, in process", "p50 %.0f µs  p99 %.0f µs  (20,000 prefixes of 1-4 characters and pinyin)", us(pct(slat, 50)), us(pct(slat, 99)))
	rss, hwm := procMemory()
	if err := srv.Close(); err != nil {
		return err
	}

	// (d) Restarts: Open until ready, with the index reused.
	progress("restarting the server %d times", benchRestarts)
	var restarts []time.Duration
	for i := range benchRestarts {
		if err := ctx.Err(); err != nil {
			return err
		}
		before := builds.Load()
		s := &Server{Data: dir, Addr: "127.0.0.1:0", Log: log}
		start := time.Now()
		if err := s.Open(ctx); err != nil {
			return err
		}
		d := time.Since(start)
		err := checkRestart(ctx, s, *docs)
		if err == nil && builds.Load() != before {
			err = fmt.Errorf("bench: restart %d rebuilt the index instead of reusing it", i+1)
		}
		if cerr := s.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		restarts = append(restarts, d)
	}
	each := make([]string, len(restarts))
	for i, d := range restarts {
		each[i] = msec(d)
	}
	sorted := slices.Clone(restarts)
	slices.Sort(sorted)
	row("restart (Open → ready)", "%s  median %s  (index reused; first open after the build %s)",
		strings.Join(each, " "), msec(sorted[len(sorted)/2]), msec(firstOpen))

	// (e) Memory.
	row("RSS after search load", "VmRSS %s  (peak VmHWM %s)", rss, hwm)

	tw := tabwriter.NewWriter(std.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "medmatch bench\t%s, %d CPUs, GOMAXPROCS %d, %s/%s\n", runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", r[0], r[1])
	}
	return tw.Flush()
}

// buildWatch is a slog handler that counts index builds ("index built" is
// logged by every full build) and drops everything else.
type buildWatch struct{ n *atomic.Int64 }

func (h buildWatch) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h buildWatch) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "index built" {
		h.n.Add(1)
	}
	return nil
}
func (h buildWatch) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h buildWatch) WithGroup(string) slog.Handler      { return h }

// checkRestart checks, after the timed Open, that the server answers and
// that the index holds every record and is caught up with the store.
func checkRestart(ctx context.Context, s *Server, docs int) error {
	n, err := s.index.DocCount()
	if err != nil {
		return err
	}
	head, _ := s.store.Head(ctx)
	if n != uint64(docs) || s.index.Applied() != head {
		return fmt.Errorf("bench: after restart the index holds %d docs at change %d; want %d at %d", n, s.index.Applied(), docs, head)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Addr+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: /healthz after restart: %s", resp.Status)
	}
	return nil
}

// benchSearch runs count searches (URLs from u) one after another over one
// keep-alive connection and returns each latency (request sent to body
// read), the sum of the totals and of the hits returned.
func benchSearch(ctx context.Context, u func(int) string, count int) ([]time.Duration, uint64, uint64, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	lat := make([]time.Duration, 0, count)
	var hits, returned uint64
	for i := range count {
		start := time.Now()
		res, err := benchGet(ctx, client, u(i))
		if err != nil {
			return nil, 0, 0, err
		}
		lat = append(lat, time.Since(start))
		hits += res.Total
		returned += uint64(res.Hits)
	}
	return lat, hits, returned, nil
}

type benchResult struct {
	Total  uint64
	Hits   int
	Cursor string
}

func benchGet(ctx context.Context, client *http.Client, u string) (benchResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return benchResult{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return benchResult{}, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return benchResult{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return benchResult{}, fmt.Errorf("bench: %s: %s: %s", u, resp.Status, bytes.TrimSpace(body))
	}
	var res struct {
		Total      uint64            `json:"total"`
		Hits       []json.RawMessage `json:"hits"`
		NextCursor string            `json:"next_cursor"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return benchResult{}, fmt.Errorf("bench: %s: %w", u, err)
	}
	return benchResult{res.Total, len(res.Hits), res.NextCursor}, nil
}

// benchDeep walks queries page by page through cursors and returns the
// latencies of pages 2 to 30, until count requests were timed.
func benchDeep(ctx context.Context, base string, qs []string, count int) ([]time.Duration, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	var lat []time.Duration
	for i := 0; len(lat) < count && i < len(qs); i++ {
		u := base + url.QueryEscape(qs[i])
		res, err := benchGet(ctx, client, u)
		if err != nil {
			return nil, err
		}
		for page := 2; page <= 30 && res.Cursor != "" && len(lat) < count; page++ {
			start := time.Now()
			if res, err = benchGet(ctx, client, u+"&cursor="+url.QueryEscape(res.Cursor)); err != nil {
				return nil, err
			}
			lat = append(lat, time.Since(start))
		}
	}
	if len(lat) == 0 {
		return nil, fmt.Errorf("bench: no query had a second page")
	}
	return lat, nil
}

// benchLoad runs clients concurrent loops of searches for d and returns
// the rate and every latency.
func benchLoad(ctx context.Context, u func(int) string, clients int, d time.Duration) (float64, []time.Duration, error) {
	type out struct {
		lat []time.Duration
		err error
	}
	done := make(chan out, clients)
	deadline := time.Now().Add(d)
	var next atomic.Int64
	start := time.Now()
	for range clients {
		go func() {
			client := &http.Client{Timeout: 30 * time.Second}
			defer client.CloseIdleConnections()
			var o out
			for time.Now().Before(deadline) {
				t := time.Now()
				if _, err := benchGet(ctx, client, u(int(next.Add(1)))); err != nil {
					o.err = err
					break
				}
				o.lat = append(o.lat, time.Since(t))
			}
			done <- o
		}()
	}
	var lat []time.Duration
	var err error
	for range clients {
		o := <-done
		lat = append(lat, o.lat...)
		if o.err != nil {
			err = o.err
		}
	}
	return float64(len(lat)) / time.Since(start).Seconds(), lat, err
}

// The records are derived from the corpus as in indexer/bench_test.go: keep
// the two in step.

func readBenchCSL(path string) ([]corpus.Paper, error) {
	papers, err := corpus.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usagef("--csl: CSL corpus not found at %s; give its csl.jsonl with --csl or MEDMATCH_CSL (see ../shared/data/README.md)", path)
	} else if err != nil {
		return nil, usagef("--csl: %v", err)
	}
	return papers, nil
}

// benchJSONL returns achievements as JSONL rows.
func benchJSONL(as []*medmatch.Achievement) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, a := range as {
		_ = enc.Encode(struct {
			Type string `json:"type"`
			*medmatch.Achievement
		}{string(medmatch.KindAchievement), a}) // strings and slices only: cannot fail
	}
	return buf.Bytes()
}

// procMemory returns VmRSS and VmHWM from /proc/self/status ("n/a" where
// there is no /proc).
func procMemory() (rss, hwm string) {
	rss, hwm = "n/a", "n/a"
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		s := fmt.Sprintf("%.0f MB", float64(kb)/1024)
		switch k {
		case "VmRSS":
			rss = s
		case "VmHWM":
			hwm = s
		}
	}
	return
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// pct is the p-th percentile of sorted by the nearest-rank method.
func pct(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func sum(ds []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

func mb(n int64) float64 { return float64(n) / 1e6 }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }

func msec(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
