package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/medmatch/medmatch"
)

var _ medmatch.Cache = (*Store)(nil)

// CacheGet implements medmatch.Cache.
func (s *Store) CacheGet(ctx context.Context, key string) ([]byte, bool, error) {
	b, err := s.rdb.Get(ctx, s.Key("cache", key)).Bytes()
	if err == redis.Nil {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, unavailable(err)
	}
	return b, true, nil
}

// CachePut implements medmatch.Cache.
func (s *Store) CachePut(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := s.rdb.Set(ctx, s.Key("cache", key), val, ttl).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// Generation implements medmatch.Cache: the head and the per-kind write
// counts ({NS}:gen, bumped in the same MULTI/EXEC as each write) read in
// one MULTI.
func (s *Store) Generation(ctx context.Context, kinds []medmatch.Kind) (uint64, []uint64, error) {
	fields := make([]string, len(kinds))
	for i, k := range kinds {
		fields[i] = string(k)
	}
	var seq *redis.StringCmd
	var gens *redis.SliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		seq = p.Get(ctx, s.Key("seq"))
		if len(fields) > 0 {
			gens = p.HMGet(ctx, s.Key("gen"), fields...)
		}
		return nil
	})
	if err != nil && err != redis.Nil {
		return 0, nil, unavailable(err)
	}
	head := uint64(atoi(seq.Val()))
	out := make([]uint64, len(kinds))
	if gens != nil {
		for i, v := range gens.Val() {
			if str, ok := v.(string); ok {
				out[i] = uint64(atoi(str))
			}
		}
	}
	return head, out, nil
}
