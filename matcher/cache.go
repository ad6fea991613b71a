package matcher

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/indexer"
)

// CacheTTL bounds how long a cached match result is kept.
const CacheTTL = 10 * time.Minute

// cacheVersion changes when the cached form or the key's parts change.
const cacheVersion = 1

// CacheStats counts the shared cache's answers in this process.
type CacheStats struct {
	Hits, Misses, Uncached int64
}

type cacheCounters struct{ hits, misses, uncached atomic.Int64 }

// CacheStats returns the counts so far.
func (m *Matcher) CacheStats() CacheStats {
	return CacheStats{Hits: m.stats.hits.Load(), Misses: m.stats.misses.Load(), Uncached: m.stats.uncached.Load()}
}

// candidateKinds are the kinds whose writes can change a match to target:
// an enterprise is matched through its profile and its demands.
func candidateKinds(target medmatch.Kind) []medmatch.Kind {
	if target == medmatch.KindEnterprise {
		return []medmatch.Kind{medmatch.KindEnterprise, medmatch.KindDemand}
	}
	return []medmatch.Kind{target}
}

// MatchCached is Match through the Store's shared cache (medmatch.Cache;
// the Redis store has one, the embedded store none, and then it is Match).
// A result is cached under a key made of everything it depends on, so a
// change never serves a stale answer:
//
//   - the request (source or text, target, limit, model, pool, filters,
//     saved search) and who asks (role and principals: visibility);
//   - the source record's version: editing the demand misses;
//   - the active semantic model and weight versions: a refit or a
//     rollback misses;
//   - the number of writes so far to records of the target's kinds (for
//     enterprises, enterprises and demands): any write that could bring a
//     record into the candidate set, take one out or change its score
//     misses, on every replica, since the count is bumped in the write's
//     own transaction.
//
// A result is stored only when this replica's index had applied every
// change up to the head read with those counts, so an index that lags
// never stores an old answer under a new key. Results with Ensure
// (training) are not cached; cached results have no Scored pool.
func (m *Matcher) MatchCached(ctx context.Context, v medmatch.Viewer, req Request) (*Result, error) {
	c, ok := m.store.(medmatch.Cache)
	if !ok || len(req.Ensure) > 0 {
		m.stats.uncached.Add(1)
		return m.Match(ctx, v, req)
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	key, head, err := m.cacheKey(ctx, c, v, req)
	if err != nil {
		// The source is missing or unreadable, or the cache is away: let
		// Match answer (with its own error, if any).
		m.stats.uncached.Add(1)
		return m.Match(ctx, v, req)
	}
	if data, ok, err := c.CacheGet(ctx, key); err == nil && ok {
		if res, err := decodeResult(data); err == nil {
			m.stats.hits.Add(1)
			return res, nil
		}
	}
	m.stats.misses.Add(1)
	applied := m.ix.Applied()
	res, err := m.Match(ctx, v, req)
	if err != nil {
		return nil, err
	}
	if applied >= head {
		if data, err := json.Marshal(res); err == nil {
			if err := c.CachePut(ctx, key, data, CacheTTL); err != nil {
				m.log.Debug("match cache: put", "err", err)
			}
		}
	}
	return res, nil
}

func (m *Matcher) cacheKey(ctx context.Context, c medmatch.Cache, v medmatch.Viewer, req Request) (string, uint64, error) {
	head, gens, err := c.Generation(ctx, candidateKinds(req.Target))
	if err != nil {
		return "", 0, err
	}
	var srcVersion int64
	if req.Source != nil {
		r, err := m.store.Get(ctx, v, req.Source.Kind, req.Source.ID)
		if err != nil {
			return "", 0, err
		}
		srcVersion = r.Base().Version
	}
	m.refresh(ctx)
	m.mu.RLock()
	modelVer, weightsVer := m.modelVer, int64(0)
	if m.weights != nil {
		weightsVer = m.weights.Version
	}
	m.mu.RUnlock()
	parts := struct {
		V          int                 `json:"v"`
		Role       medmatch.Role       `json:"role"`
		Principals []string            `json:"p"`
		Owner      string              `json:"o"`
		Source     *medmatch.Ref       `json:"s"`
		SrcVersion int64               `json:"sv"`
		Text       string              `json:"t"`
		Target     medmatch.Kind       `json:"tg"`
		Limit      int                 `json:"l"`
		Model      string              `json:"m"`
		Pool       int                 `json:"pl"`
		Filters    map[string][]string `json:"f"`
		Within     *indexer.Request    `json:"w"`
		Semantic   int64               `json:"sem"`
		Weights    int64               `json:"wts"`
		Gens       []uint64            `json:"g"`
	}{cacheVersion, v.Role, v.Principals(), v.Owner(), req.Source, srcVersion, req.Text, req.Target, req.Limit, req.Model,
		req.Pool, req.Filters, req.Within, modelVer, weightsVer, gens}
	b, err := json.Marshal(parts)
	if err != nil {
		return "", 0, err
	}
	sum := sha256.Sum256(b)
	return "match:" + hex.EncodeToString(sum[:16]), head, nil
}

// wireMatch and wireResult are Match and Result as cached: the record
// as raw JSON, decoded by its kind.
type wireMatch struct {
	Match
	Record json.RawMessage `json:"record"`
}

type wireResult struct {
	Result
	Matches []wireMatch `json:"matches"`
}

func decodeResult(data []byte) (*Result, error) {
	var w wireResult
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, err
	}
	res := w.Result
	res.Matches = make([]Match, len(w.Matches))
	for i, wm := range w.Matches {
		mt := wm.Match
		r := medmatch.NewRecord(mt.Kind)
		if r == nil {
			return nil, medmatch.Errorf(medmatch.EINTERNAL, "", "cached match of unknown kind %q", mt.Kind)
		}
		if err := json.Unmarshal(wm.Record, r); err != nil {
			return nil, err
		}
		mt.Record = r
		res.Matches[i] = mt
	}
	return &res, nil
}
