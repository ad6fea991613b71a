package matcher

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medmatch/medmatch"
)

// vecCache keeps folded-in vectors by record and version, so a record is
// analysed once per model and version however often it is a candidate.
// When full, an arbitrary eighth of it is dropped (Go's map order is
// random), which costs less than keeping an LRU list on every read.
type vecCache struct {
	mu  sync.RWMutex
	cap int
	m   map[string][]float32
}

func newVecCache(n int) *vecCache { return &vecCache{cap: n, m: make(map[string][]float32)} }

// vecKey names a record's vector under one model version.
func vecKey(modelVer int64, r medmatch.Record) string {
	b := r.Base()
	return strconv.FormatInt(modelVer, 10) + ":" + string(r.Kind()) + "/" + b.ID + "@" + strconv.FormatInt(b.Version, 10)
}

func (c *vecCache) get(k string) ([]float32, bool) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	return v, ok
}

func (c *vecCache) put(k string, v []float32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.cap {
		drop := max(1, c.cap/8)
		for k := range c.m {
			delete(c.m, k)
			if drop--; drop == 0 {
				break
			}
		}
	}
	c.m[k] = v
}

func (c *vecCache) reset() {
	c.mu.Lock()
	c.m = make(map[string][]float32)
	c.mu.Unlock()
}

func (c *vecCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// vectors returns the folded-in vector of each record (nil for nil
// records), analysing the ones not cached on every CPU.
func (m *Matcher) vectors(model *Model, ver int64, recs []medmatch.Record) [][]float32 {
	out := make([][]float32, len(recs))
	var todo []int
	for i, r := range recs {
		if r == nil {
			continue
		}
		if v, ok := m.cache.get(vecKey(ver, r)); ok {
			out[i] = v
		} else {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return out
	}
	workers := min(len(todo), runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				v := model.Embed(m.RecordTerms(recs[i]))
				out[i] = v
				m.cache.put(vecKey(ver, recs[i]), v)
			}
		}()
	}
	for _, i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// CachedVectors is how many folded-in vectors the cache holds.
func (m *Matcher) CachedVectors() int { return m.cache.len() }

// Warm folds in every record that can be a candidate (published
// achievements, open demands, enterprises, teams), up to the cache's
// size, so that matches do not wait for it. It uses all CPUs but one and
// stops when ctx is done or the model changes.
func (m *Matcher) Warm(ctx context.Context) (int, error) {
	m.mu.RLock()
	model, ver := m.model, m.modelVer
	m.mu.RUnlock()
	if model == nil {
		return 0, nil
	}
	workers := max(1, runtime.GOMAXPROCS(0)-1)
	jobs := make(chan medmatch.Record, 256)
	var wg sync.WaitGroup
	var n atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range jobs {
				k := vecKey(ver, r)
				if _, ok := m.cache.get(k); !ok {
					m.cache.put(k, model.Embed(m.RecordTerms(r)))
					n.Add(1)
				}
			}
		}()
	}
	stop := errors.New("stop")
	_, err := m.store.Scan(ctx, func(r medmatch.Record) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if m.cache.len() >= m.cache.cap {
			return stop
		}
		m.mu.RLock()
		changed := m.modelVer != ver
		m.mu.RUnlock()
		if changed {
			return stop
		}
		switch r := r.(type) {
		case *medmatch.Achievement:
			if r.Status != medmatch.StatusPublished {
				return nil
			}
		case *medmatch.Demand:
			if r.Status != medmatch.DemandOpen {
				return nil
			}
		case *medmatch.ClinicalNeed:
			return nil
		}
		jobs <- r
		return nil
	})
	close(jobs)
	wg.Wait()
	if errors.Is(err, stop) {
		err = nil
	}
	return int(n.Load()), err
}

// WarmLoop keeps the cache warm: it runs Warm now and again whenever the
// active semantic model changes, until ctx is done.
func (m *Matcher) WarmLoop(ctx context.Context) {
	var warmed int64 = -1
	for {
		m.refresh(ctx)
		m.mu.RLock()
		ver := m.modelVer
		m.mu.RUnlock()
		if ver != warmed && ver != 0 {
			start := time.Now()
			n, err := m.Warm(ctx)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				m.log.Warn("fold in the catalogue", "err", err)
			} else {
				m.log.Info("catalogue folded into the semantic model", "version", ver, "records", n, "cached", m.cache.len(), "took", time.Since(start).Round(time.Millisecond))
			}
			warmed = ver
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(m.opt.Refresh):
		}
	}
}
