package matcher

import (
	"runtime"
	"strconv"
	"sync"

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
