// Package indexer owns everything bleve: the gse tokenizers registered with
// bleve, the index mapping, batched indexing, rebuilding from the Store,
// following the Store's change feed, and search with highlights.
//
// The index is derived data. It records inside itself the last change-feed
// sequence number it applied (in the same batch as the documents), so a
// restart resumes where it stopped; it can always be rebuilt from the Store.
package indexer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/dict"
)

var (
	keySeq     = []byte("medmatch.seq")
	keyVersion = []byte("medmatch.mapping")
)

// BatchSize is the number of documents per bleve batch: one-by-one indexing
// is an order of magnitude slower, and larger batches gain little.
const BatchSize = 1000

// buildGCPercent is the GC target while a whole index is built, and
// buildMemoryLimit the heap size above which the GC works as usual again.
const (
	buildGCPercent   = 300
	buildMemoryLimit = 1 << 30
)

// Options configure Open.
type Options struct {
	// Consumer is the name this index acknowledges changes under, so the
	// Store keeps changes it has not applied. Default "index".
	Consumer string
	Logger   *slog.Logger
	// NoSuggestions skips loading search-box suggestions (commands that do
	// not suggest, such as train and match: on a large catalogue loading
	// them costs seconds of CPU and hundreds of MB).
	NoSuggestions bool
}

// Index is a bleve index of the Store's records that follows its change feed.
type Index struct {
	dir   string
	store medmatch.Store
	an    *dict.Analyzer
	opt   Options
	log   *slog.Logger

	mu  sync.RWMutex // guards idx against a swap by Rebuild
	idx bleve.Index

	synOnce sync.Once
	synMap  map[string][]string

	dfMu sync.Mutex
	df   map[string]uint64 // document frequencies of query terms, until the index changes
	dfN  uint64

	sugg     *suggester
	stopLoad context.CancelFunc // stops loading suggestions

	built bool // Open built the index from the store

	applyMu sync.Mutex // one applier at a time
	applied atomic.Uint64
	notify  chan struct{} // closed and replaced when applied advances
	nmu     sync.Mutex
}

// Open opens the index in dir, creating it (and indexing the whole Store)
// when absent or built by another mapping version, then applies the changes
// made since it was last updated. A checkpoint the Store has compacted away
// leads to a rebuild, which is logged.
func Open(ctx context.Context, dir string, store medmatch.Store, opt Options) (*Index, error) {
	if opt.Consumer == "" {
		opt.Consumer = "index"
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	an, err := sharedAnalyzer()
	if err != nil {
		return nil, err
	}
	ix := &Index{dir: dir, store: store, an: an, opt: opt, log: opt.Logger, notify: make(chan struct{})}
	idx, err := bleve.Open(dir)
	switch {
	case err == nil:
		v, verr := idx.GetInternal(keyVersion)
		if verr != nil || string(v) != mappingVersion() {
			ix.log.Info("index built by another mapping or dictionary version; rebuilding", "dir", dir, "found", string(v), "want", mappingVersion())
			idx.Close()
			if err := ix.rebuildInPlace(ctx); err != nil {
				return nil, err
			}
			break
		}
		seq, err := idx.GetInternal(keySeq)
		if err != nil {
			idx.Close()
			return nil, fmt.Errorf("indexer.Open: read checkpoint: %w", err)
		}
		ix.idx = idx
		ix.applied.Store(decodeSeq(seq))
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist):
		if err := ix.rebuildInPlace(ctx); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("indexer.Open(%q): %w", dir, err)
	}
	if !opt.NoSuggestions {
		ix.sugg = newSuggester()
		bg, cancel := context.WithCancel(context.Background())
		ix.stopLoad = cancel
		ix.sugg.loadAsync(bg, store, ix.log)
	}
	if err := ix.CatchUp(ctx); err != nil {
		ix.Close()
		return nil, err
	}
	return ix, nil
}

func decodeSeq(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func encodeSeq(seq uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	return b[:]
}

// Applied is the sequence number of the last change the index reflects.
func (ix *Index) Applied() uint64 { return ix.applied.Load() }

// DocCount is the number of records in the index.
func (ix *Index) DocCount() (uint64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n, err := ix.idx.DocCount()
	return n - min(n, synonymDocs()), err
}

// synonymDocs is the number of synonym definitions in every index (bleve
// counts them as documents); an index built with other dictionaries is
// rebuilt, so the count is the current dictionary's.
func synonymDocs() uint64 {
	groups, _ := dict.Synonyms()
	return uint64(len(groups))
}

// SuggestionsReady is closed once suggestions cover every record (they load
// in the background after an existing index is opened).
func (ix *Index) SuggestionsReady() <-chan struct{} {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.sugg == nil {
		done := make(chan struct{})
		close(done)
		return done
	}
	return ix.sugg.ready
}

// Close closes the index.
func (ix *Index) Close() error {
	if ix.stopLoad != nil {
		ix.stopLoad()
		<-ix.sugg.ready // the loader reads the store: let it finish first
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.idx == nil {
		return nil
	}
	err := ix.idx.Close()
	ix.idx = nil
	return err
}

func (ix *Index) setApplied(seq uint64) {
	ix.applied.Store(seq)
	ix.nmu.Lock()
	close(ix.notify)
	ix.notify = make(chan struct{})
	ix.nmu.Unlock()
}

// WaitFor blocks until the index reflects change seq or ctx is done, so a
// writer can read its own write from search.
func (ix *Index) WaitFor(ctx context.Context, seq uint64) error {
	for {
		ix.nmu.Lock()
		ch := ix.notify
		ix.nmu.Unlock()
		if ix.applied.Load() >= seq {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// CatchUp applies every change the Store has after the checkpoint.
func (ix *Index) CatchUp(ctx context.Context) error {
	for {
		n, err := ix.applyOnce(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

// Follow applies changes as the Store makes them until ctx is done. It
// returns nil when ctx is cancelled.
func (ix *Index) Follow(ctx context.Context) error {
	for {
		if err := ix.CatchUp(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// A transient failure (I/O) must not stop indexing for good.
			ix.log.Error("index catch-up failed; retrying", "err", err)
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		// Wait for the next change; acknowledge now and then while idle,
		// so that a shared store knows this consumer is alive.
		wctx, cancel := context.WithTimeout(ctx, HeartbeatEvery)
		err := ix.store.Wait(wctx, ix.applied.Load())
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if err := ix.store.Ack(ctx, ix.opt.Consumer, ix.applied.Load()); err != nil && ctx.Err() == nil {
				ix.log.Warn("acknowledge the change feed", "err", err)
			}
		}
	}
}

// HeartbeatEvery is how often an idle Follow acknowledges its checkpoint.
const HeartbeatEvery = time.Minute

// applyOnce applies one batch of changes and returns how many it read.
func (ix *Index) applyOnce(ctx context.Context) (int, error) {
	ix.applyMu.Lock()
	defer ix.applyMu.Unlock()
	since := ix.applied.Load()
	chs, err := ix.store.Changes(ctx, since, BatchSize)
	if medmatch.ErrorCode(err) == medmatch.ETRIMMED {
		ix.log.Warn("index checkpoint was compacted out of the change feed; rebuilding from the store", "checkpoint", since)
		ix.applyMu.Unlock()
		err := ix.Rebuild(ctx)
		ix.applyMu.Lock()
		return 1, err
	} else if err != nil {
		return 0, fmt.Errorf("indexer: read changes after %d: %w", since, err)
	}
	if len(chs) == 0 {
		return 0, nil
	}
	// The latest state of each record, read once however often it changed.
	seen := make(map[medmatch.Ref]bool, len(chs))
	var refs []medmatch.Ref
	for _, c := range chs {
		ref := medmatch.Ref{Kind: c.Kind, ID: c.ID}
		if !seen[ref] {
			seen[ref] = true
			refs = append(refs, ref)
		}
	}
	recs, err := ix.store.GetMany(ctx, medmatch.System, refs)
	if err != nil {
		return 0, fmt.Errorf("indexer: read changed records: %w", err)
	}
	last := chs[len(chs)-1].Seq
	ix.mu.RLock()
	b := ix.idx.NewBatch()
	for i, ref := range refs {
		if recs[i] == nil {
			b.Delete(docID(ref.Kind, ref.ID))
			continue
		}
		if err := b.Index(docID(ref.Kind, ref.ID), toDoc(recs[i])); err != nil {
			ix.mu.RUnlock()
			return 0, fmt.Errorf("indexer: map %s %s: %w", ref.Kind, ref.ID, err)
		}
	}
	b.SetInternal(keySeq, encodeSeq(last))
	err = ix.idx.Batch(b)
	sugg := ix.sugg
	ix.mu.RUnlock()
	if err != nil {
		return 0, fmt.Errorf("indexer: apply changes %d..%d: %w", chs[0].Seq, last, err)
	}
	if sugg != nil {
		sugg.update(refs, recs)
	}
	ix.forgetDF()
	ix.setApplied(last)
	if err := ix.store.Ack(ctx, ix.opt.Consumer, last); err != nil {
		ix.log.Warn("ack change feed", "seq", last, "err", err)
	}
	return len(chs), nil
}

// build creates a new index at dir holding every record of the Store and
// returns it with the sequence number it reflects. Two goroutines: one reads
// the Store and maps records into batches, the other commits them.
func (ix *Index) build(ctx context.Context, dir string) (bleve.Index, uint64, error) {
	m, err := newMapping()
	if err != nil {
		return nil, 0, err
	}
	idx, err := bleve.New(dir, m)
	if err != nil {
		return nil, 0, fmt.Errorf("indexer: create %s: %w", dir, err)
	}
	start := time.Now()
	// A bulk build allocates fast and keeps little: collecting garbage less
	// often makes it ~15% faster, at the price of a larger heap while it
	// runs. A GOGC set by the operator is left alone.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(buildGCPercent))
		// …but not past buildMemoryLimit of heap, where the GC works harder
		// again (unless the operator set GOMEMLIMIT).
		if os.Getenv("GOMEMLIMIT") == "" {
			defer debug.SetMemoryLimit(debug.SetMemoryLimit(buildMemoryLimit))
		}
	}
	batches := make(chan *bleve.Batch, 1)
	errc := make(chan error, 1)
	var n int
	go func() {
		var err error
		for b := range batches {
			if err == nil {
				err = idx.Batch(b)
			}
		}
		errc <- err
	}()
	b := idx.NewBatch()
	if err := addSynonyms(b); err != nil {
		idx.Close()
		os.RemoveAll(dir)
		return nil, 0, err
	}
	seq, err := ix.store.Scan(ctx, func(r medmatch.Record) error {
		if err := b.Index(docID(r.Kind(), r.Base().ID), toDoc(r)); err != nil {
			return err
		}
		n++
		if b.Size() >= BatchSize {
			batches <- b
			b = idx.NewBatch()
		}
		return nil
	})
	if err == nil {
		b.SetInternal(keySeq, encodeSeq(seq))
		b.SetInternal(keyVersion, []byte(mappingVersion()))
		batches <- b
	}
	close(batches)
	if berr := <-errc; err == nil {
		err = berr
	}
	if err == nil {
		err = settle(ctx, idx)
	}
	if err != nil {
		idx.Close()
		os.RemoveAll(dir)
		return nil, 0, fmt.Errorf("indexer: build: %w", err)
	}
	el := time.Since(start)
	ix.log.Info("index built", "docs", n, "seq", seq, "took", el.Round(time.Millisecond), "docs_per_s", int(float64(n)/el.Seconds()))
	return idx, seq, nil
}

// addSynonyms adds dict's synonym groups to the index's synonym collection;
// the word fields expand query terms through it.
func addSynonyms(b *bleve.Batch) error {
	groups, err := dict.Synonyms()
	if err != nil {
		return err
	}
	for i, g := range groups {
		if err := b.IndexSynonym(fmt.Sprintf("syn-%04d", i), SynonymCollection, &bleve.SynonymDefinition{Synonyms: g}); err != nil {
			return fmt.Errorf("indexer: synonym group %v: %w", g, err)
		}
	}
	return nil
}

// settle merges a freshly built index's segments (one per batch) as the
// background merger would, before the index serves: otherwise the first
// minutes of searches compete with merges for the CPU.
func settle(ctx context.Context, idx bleve.Index) error {
	adv, err := idx.Advanced()
	if err != nil {
		return err
	}
	if sc, ok := adv.(*scorch.Scorch); ok {
		opt := mergeplan.DefaultMergePlanOptions
		return sc.ForceMerge(ctx, &opt)
	}
	return nil
}

func (ix *Index) rebuildInPlace(ctx context.Context) error {
	if err := os.RemoveAll(ix.dir); err != nil {
		return err
	}
	idx, seq, err := ix.build(ctx, ix.dir)
	if err != nil {
		return err
	}
	ix.idx = idx
	ix.built = true
	ix.setApplied(seq)
	return nil
}

// Built reports whether Open built the index from the store (it was
// missing, outdated, or behind a compacted change feed).
func (ix *Index) Built() bool { return ix.built }

// Rebuild indexes the whole Store into a new index beside the current one,
// which keeps serving searches meanwhile, then swaps it in and applies the
// changes made during the build.
func (ix *Index) Rebuild(ctx context.Context) error {
	tmp := ix.dir + ".new"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	idx, seq, err := ix.build(ctx, tmp)
	if err != nil {
		return err
	}
	idx.Close() // reopened at the final path below
	ix.applyMu.Lock()
	defer ix.applyMu.Unlock()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.idx != nil {
		ix.idx.Close()
	}
	old := ix.dir + ".old"
	os.RemoveAll(old)
	if err := os.Rename(ix.dir, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("indexer: swap: %w", err)
	}
	if err := os.Rename(tmp, ix.dir); err != nil {
		return fmt.Errorf("indexer: swap: %w", err)
	}
	os.RemoveAll(old)
	if ix.idx, err = bleve.Open(ix.dir); err != nil {
		return fmt.Errorf("indexer: reopen after rebuild: %w", err)
	}
	ix.forgetDF()
	ix.setApplied(seq)
	return nil
}

// Dir returns the directory for the index inside a data dir.
func Dir(dataDir string) string { return filepath.Join(dataDir, "index") }
