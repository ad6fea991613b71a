package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/medmatch/medmatch"
)

var _ medmatch.Leaser = (*Store)(nil)

// leaseScript takes a free lease or renews one the holder has, in one
// step.
var leaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`)

var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// Lease implements medmatch.Leaser ({NS}:lease:NAME holds the holder,
// with the ttl as its expiry).
func (s *Store) Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	n, err := leaseScript.Run(ctx, s.rdb, []string{s.Key("lease", name)}, holder, ttl.Milliseconds()).Int()
	if err != nil {
		return false, unavailable(err)
	}
	return n == 1, nil
}

// Release implements medmatch.Leaser.
func (s *Store) Release(ctx context.Context, name, holder string) error {
	if err := releaseScript.Run(ctx, s.rdb, []string{s.Key("lease", name)}, holder).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}
