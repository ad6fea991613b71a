package matcher

import "testing"

func TestVecCache(t *testing.T) {
	c := newVecCache(3)
	for i := range 3 {
		c.put(uint64(i), []float32{float32(i), 1})
	}
	c.put(9, nil) // no vector: evicts the oldest (key 0)
	if _, ok := c.get(0); ok {
		t.Fatal("key 0 should have been evicted first")
	}
	if v, ok := c.get(9); !ok || v != nil {
		t.Fatalf("nil vector = %v %v", v, ok)
	}
	v, ok := c.get(2)
	if !ok || v[0] != 2 || v[1] != 1 {
		t.Fatalf("get(2) = %v %v", v, ok)
	}
	v[0] = 99 // a copy: the cache is unchanged
	if w, _ := c.get(2); w[0] != 2 {
		t.Fatal("get returned the cache's own memory")
	}
	c.put(10, []float32{10, 10})
	c.put(11, []float32{11, 11})
	if _, ok := c.get(1); ok {
		t.Fatal("key 1 should have been evicted")
	}
	if w, ok := c.get(11); !ok || w[0] != 11 || c.len() != 3 {
		t.Fatalf("get(11) = %v %v, len %d", w, ok, c.len())
	}
	c.reset()
	if c.len() != 0 {
		t.Fatal("reset kept entries")
	}
	c.put(1, []float32{1, 2, 3}) // another width after a reset
	if w, _ := c.get(1); len(w) != 3 {
		t.Fatalf("after reset got %v", w)
	}
}

func TestVecCacheGrows(t *testing.T) {
	c := newVecCache(2)
	c.put(1, []float32{1})
	c.put(2, []float32{2}) // full; the next put would reuse slot 0
	c.setCap(4)
	c.put(3, []float32{3})
	c.put(4, []float32{4})
	for k := uint64(1); k <= 4; k++ {
		if v, ok := c.get(k); !ok || v[0] != float32(k) {
			t.Fatalf("after growing, get(%d) = %v %v", k, v, ok)
		}
	}
	c.setCap(3) // never shrinks
	c.put(5, []float32{5})
	if _, ok := c.get(1); ok || c.len() != 4 {
		t.Fatalf("after growing to 4 the fifth put should evict the first (len %d)", c.len())
	}
}
