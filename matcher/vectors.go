package matcher

import (
	"context"
	"hash/fnv"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medmatch/medmatch"
)

// vecCache keeps folded-in vectors by record and version, so a record is
// analysed once per model and version however often it is a candidate.
// The vectors live in one flat []float32 arena and the index maps a 64-bit
// hash of the key to a slot: no pointers, so a million vectors cost the
// garbage collector nothing to scan. When full, the oldest slot is reused
// (first in, first out).
type vecCache struct {
	mu    sync.RWMutex
	cap   int
	k     int
	slot  map[uint64]int32
	keys  []uint64  // per slot: the key it holds
	nils  []bool    // per slot: the record has no vector (no known term)
	arena []float32 // k floats per slot, grown as slots are used
	next  int
}

func newVecCache(n int) *vecCache { return &vecCache{cap: n, slot: make(map[uint64]int32)} }

// vecKey names a record's vector under one model version.
func vecKey(modelVer int64, r medmatch.Record) uint64 {
	b := r.Base()
	h := fnv.New64a()
	h.Write([]byte(strconv.FormatInt(modelVer, 10) + ":" + string(r.Kind()) + "/" + b.ID + "@" + strconv.FormatInt(b.Version, 10)))
	return h.Sum64()
}

func (c *vecCache) get(k uint64) ([]float32, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	i, ok := c.slot[k]
	if !ok {
		return nil, false
	}
	if c.nils[i] {
		return nil, true
	}
	// A copy: the slot may be reused once the lock is released.
	return append([]float32(nil), c.arena[int(i)*c.k:int(i+1)*c.k]...), true
}

func (c *vecCache) put(k uint64, v []float32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.slot[k]; ok {
		return
	}
	if c.k == 0 && v != nil {
		c.k = len(v)
	}
	if v != nil && len(v) != c.k {
		return // another model's width; the cache is being reset
	}
	i := c.next
	c.next = (c.next + 1) % c.cap
	if i < len(c.keys) {
		delete(c.slot, c.keys[i]) // the oldest entry gives way
		c.keys[i] = k
	} else {
		c.keys = append(c.keys, k)
		c.nils = append(c.nils, false)
	}
	c.slot[k] = int32(i)
	c.nils[i] = v == nil
	if v != nil {
		if len(c.arena) < (i+1)*c.k {
			c.grow(i + 1)
		}
		copy(c.arena[i*c.k:(i+1)*c.k], v)
	}
}

// grow makes room for at least n slots, doubling up to the cache's size
// (never past it, so a full cache holds exactly cap vectors).
func (c *vecCache) grow(n int) {
	slots := min(c.cap, max(n, 1024, 2*len(c.arena)/c.k))
	if cap(c.arena) >= slots*c.k {
		c.arena = c.arena[:slots*c.k]
		return
	}
	a := make([]float32, slots*c.k)
	copy(a, c.arena)
	c.arena = a
}

// setCap grows the cache to n vectors (it never shrinks: that would drop
// vectors in use).
func (c *vecCache) setCap(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n <= c.cap {
		return
	}
	if c.next == 0 && len(c.keys) == c.cap {
		c.next = len(c.keys) // it had wrapped: continue after the end
	}
	c.cap = n
}

func (c *vecCache) reset() {
	c.mu.Lock()
	c.slot = make(map[uint64]int32)
	c.keys, c.nils, c.arena, c.next, c.k = nil, nil, nil, 0, 0
	c.mu.Unlock()
}

func (c *vecCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.slot)
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
	if m.autoCache {
		counts, err := m.store.Counts(ctx)
		if err != nil {
			return 0, err
		}
		n := counts[medmatch.KindAchievement] + counts[medmatch.KindDemand] + counts[medmatch.KindEnterprise] + counts[medmatch.KindTeam]
		m.cache.setCap(n + n/10)
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
	err := eachRecord(ctx, m.store, []medmatch.Kind{medmatch.KindAchievement, medmatch.KindDemand, medmatch.KindEnterprise, medmatch.KindTeam}, func(r medmatch.Record) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if m.cache.len() >= m.cache.cap {
			return errStop
		}
		m.mu.RLock()
		changed := m.modelVer != ver
		m.mu.RUnlock()
		if changed {
			return errStop
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
		}
		jobs <- r
		return nil
	})
	close(jobs)
	wg.Wait()
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
