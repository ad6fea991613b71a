package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/api"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/fixtures"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/internal/corpus"
	"github.com/medmatch/medmatch/matcher"
	"github.com/medmatch/medmatch/redisstore"
)

// runBenchReplica measures the Redis store against the embedded one in
// the same run, on the same records.
func runBenchReplica(ctx context.Context, std IO, args []string) error {
	fset := newFlags("bench replica", "--redis URL [flags]", `
Measures a replica on Redis against the embedded store, in one run, on N
achievements recombined from the CSL corpus (as bench does):

  write     the records imported in chunks of 1,000 into each store:
            records/s
  catch-up  a fresh replica: a new index built from the store (scan, then
            the feed from the head): seconds and docs/s; the Redis apply
            rate as a share of the embedded one
  api       1,000 creates through the HTTP API of a server on the Redis
            store, 8 clients (each answered once the index reflects it)
  visible   single writes through a second Redis client (as another
            replica would) until the following index has applied them:
            latency percentiles
  mix       read-mostly mixes on the Redis replica (matches of 50 texts
            with 5% and 1% writes): the shared match cache's hit rate
  search    the same queries on both indexes, in process: percentiles

The Redis data goes to a namespace of its own, deleted afterwards. Exit
code 2 when the corpus is missing or --redis is not given.`, std.Err)
	docs := fset.Int("docs", 20000, "number of achievement records")
	redisURL := fset.String("redis", "", "Redis URL (redis://host:port/db); required")
	csl := fset.String("csl", envOr("MEDMATCH_CSL", "../shared/data/csl/csl.jsonl"), "path of the CSL csl.jsonl (env MEDMATCH_CSL)")
	writes := fset.Int("writes", 200, "single writes timed until visible on the replica")
	if pos, err := parse(fset, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *redisURL == "" {
		return usagef("--redis: give the URL of a Redis to measure (redis://127.0.0.1:6379/0)")
	}
	if *docs < 1 {
		return usagef("--docs: must be at least 1, got %d", *docs)
	}
	papers, err := readBenchCSL(*csl)
	if err != nil {
		return err
	}
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
	tax, err := dict.Taxonomy()
	if err != nil {
		return err
	}
	if _, err := dict.Default(); err != nil {
		return err
	}
	qs := corpus.Queries(papers, indexer.MaxQueryChars)
	dir, err := os.MkdirTemp("", "medmatch-bench-replica-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	progress := func(format string, a ...any) { fmt.Fprintf(std.Err, "bench replica: "+format+"\n", a...) }

	embedded, err := bolt.Open(dir+"/embedded", bolt.Options{Taxonomy: tax})
	if err != nil {
		return err
	}
	defer embedded.Close()
	ns := "bench-" + randomHex(4)
	rs, err := redisstore.Open(ctx, *redisURL, redisstore.Options{Taxonomy: tax, Namespace: ns})
	if err != nil {
		return err
	}
	defer func() {
		// SCAN, not KEYS: the Redis may be shared and KEYS blocks it.
		bg := context.Background()
		it := rs.Client().Scan(bg, 0, "{"+ns+"}:*", 1000).Iterator()
		var batch []string
		for it.Next(bg) {
			if batch = append(batch, it.Val()); len(batch) == 1000 {
				rs.Client().Del(bg, batch...)
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			rs.Client().Del(bg, batch...)
		}
		rs.Close()
	}()

	var rows [][2]string
	row := func(name, format string, a ...any) { rows = append(rows, [2]string{name, fmt.Sprintf(format, a...)}) }
	row("data", "%d achievements recombined from %d CSL papers", *docs, len(papers))

	stores := []struct {
		name  string
		store medmatch.Store
	}{{"embedded", embedded}, {"redis", rs}}
	rates := map[string]float64{}
	indexes := map[string]*indexer.Index{}
	for _, st := range stores {
		recs, _ := corpus.Catalogue(papers, meta, *docs)
		progress("importing %d records into the %s store", *docs, st.name)
		start := time.Now()
		for i := 0; i < len(recs); i += 1000 {
			chunk := make([]medmatch.Record, 0, 1000)
			for _, a := range recs[i:min(i+1000, len(recs))] {
				chunk = append(chunk, a)
			}
			res, err := st.store.Import(ctx, medmatch.System, chunk, medmatch.ImportOptions{})
			if err != nil {
				return err
			}
			if res.Rejected > 0 {
				return fmt.Errorf("bench replica: %d records rejected", res.Rejected)
			}
		}
		took := time.Since(start)
		row("write, "+st.name, "%s  %.0f records/s (chunks of 1,000)", secs(took), float64(*docs)/took.Seconds())
		progress("building a fresh index on the %s store", st.name)
		start = time.Now()
		ix, err := indexer.Open(ctx, dir+"/index-"+st.name, st.store, indexer.Options{Consumer: "bench-" + st.name, NoSuggestions: true})
		if err != nil {
			return err
		}
		defer ix.Close()
		took = time.Since(start)
		rates[st.name] = float64(*docs) / took.Seconds()
		indexes[st.name] = ix
		row("catch-up, "+st.name, "%s  %.0f docs/s", secs(took), rates[st.name])
	}
	row("apply rate", "redis %.0f%% of embedded", 100*rates["redis"]/rates["embedded"])

	// Writes through another client, applied by the following index.
	other, err := redisstore.Open(ctx, *redisURL, redisstore.Options{Taxonomy: tax, Namespace: ns})
	if err != nil {
		return err
	}
	defer other.Close()
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ix := indexes["redis"]
	go ix.Follow(fctx)
	lat := make([]time.Duration, 0, *writes)
	for i := range *writes {
		a := &medmatch.Achievement{Title: "副本可见性基准成果 " + strconv.Itoa(i), Description: "用于测量写入到另一副本可检索的延迟。",
			Institution: meta[0].Institution, Specialty: meta[0].Specialty, Fields: meta[0].Fields, Maturity: medmatch.MaturityPrototype}
		start := time.Now()
		if _, err := other.Create(ctx, medmatch.System, a); err != nil {
			return err
		}
		head, err := other.Head(ctx)
		if err != nil {
			return err
		}
		for ix.Applied() < head {
			if time.Since(start) > 10*time.Second {
				return fmt.Errorf("bench replica: write %d not applied after 10 s", i)
			}
			time.Sleep(200 * time.Microsecond)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	row("write → applied on replica", "p50 %s  p99 %s  max %s  (%d writes, one at a time)", msec(pct(lat, 50)), msec(pct(lat, 99)), msec(lat[len(lat)-1]), len(lat))

	// Writes through the HTTP API of a server on the Redis store (each
	// returns once this replica's index reflects it), 8 clients.
	hs := httptest.NewServer(func() http.Handler {
		a := api.New(api.Config{Store: rs, LocalToken: "bench-token"})
		a.SetIndex(ix, nil)
		return a.Handler()
	}())
	const apiWrites, apiClients = 1000, 8
	var next atomic.Int64
	var failed atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range apiClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > apiWrites {
					return
				}
				body := fmt.Sprintf(`{"title":"接口写入基准成果 %d","description":"经由接口写入、在副本上可检索。","institution":%q,"specialty":%q,"fields":["医疗器械"],"maturity":"prototype"}`,
					i, meta[0].Institution, meta[0].Specialty)
				req, _ := http.NewRequestWithContext(ctx, "POST", hs.URL+"/api/v1/achievements", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer bench-token")
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil || res.StatusCode != http.StatusCreated {
					failed.Add(1)
				}
				if res != nil {
					res.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	hs.Close()
	if failed.Load() > 0 {
		return fmt.Errorf("bench replica: %d API writes failed", failed.Load())
	}
	row("write through the API, redis", "%.0f records/s  (%d creates, %d clients; each answered once the index reflects it)", apiWrites/took.Seconds(), apiWrites, apiClients)

	// Read-mostly mixes on the Redis replica: matches of 50 texts through
	// the shared cache, with 5% and then 1% writes of new achievements.
	m, err := matcher.New(ctx, rs, ix, matcher.Options{})
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, writePct := range []int{5, 1} {
		var hitLat, missLat []time.Duration
		before := m.CacheStats()
		for i := range 2000 {
			if rng.IntN(100) < writePct {
				a := &medmatch.Achievement{Title: "读多写少基准成果 " + strconv.Itoa(i), Description: qs[rng.IntN(len(qs))] + "相关的新成果。",
					Institution: meta[0].Institution, Specialty: meta[0].Specialty, Fields: meta[0].Fields, Maturity: medmatch.MaturityPrototype}
				if _, err := other.Create(ctx, medmatch.System, a); err != nil {
					return err
				}
				continue
			}
			hits := m.CacheStats().Hits
			start := time.Now()
			if _, err := m.MatchCached(ctx, medmatch.Viewer{Role: medmatch.RoleOrganizer}, matcher.Request{Text: qs[rng.IntN(min(50, len(qs)))], Limit: 10}); err != nil {
				return err
			}
			if m.CacheStats().Hits > hits {
				hitLat = append(hitLat, time.Since(start))
			} else {
				missLat = append(missLat, time.Since(start))
			}
		}
		slices.Sort(hitLat)
		slices.Sort(missLat)
		st := m.CacheStats()
		h, ms := st.Hits-before.Hits, st.Misses-before.Misses
		p := func(l []time.Duration, q float64) string {
			if len(l) == 0 {
				return "-"
			}
			return msec(pct(l, q))
		}
		row(fmt.Sprintf("mix %d%% writes (match cache)", writePct), "hit rate %.0f%% (%d hits, %d misses); hit p50 %s p99 %s; miss p50 %s p99 %s  (2,000 ops: matches of 50 texts, new achievements)",
			100*float64(h)/float64(max(1, h+ms)), h, ms, p(hitLat, 50), p(hitLat, 99), p(missLat, 50), p(missLat, 99))
	}

	for _, st := range stores {
		var sl []time.Duration
		for i := range 500 {
			start := time.Now()
			if _, err := indexes[st.name].Search(ctx, medmatch.Viewer{}, indexer.Request{Query: qs[i%len(qs)], Limit: 10}); err != nil {
				return err
			}
			sl = append(sl, time.Since(start))
		}
		slices.Sort(sl)
		row("search, "+st.name, "p50 %s  p99 %s  (500 queries with highlights, in process)", msec(pct(sl, 50)), msec(pct(sl, 99)))
	}
	tw := tabwriter.NewWriter(std.Out, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", r[0], r[1])
	}
	return tw.Flush()
}
