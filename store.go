package medmatch

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"time"
)

// Store is the source of truth for the catalogue. Every read takes the viewer
// and returns only what the viewer may read (a record it may not read is
// ENOTFOUND, never EFORBIDDEN, so its existence does not leak); every write
// checks CanWrite, normalises and validates the record, and appends to the
// change feed in the same atomic step.
type Store interface {
	// Get returns one record. ENOTFOUND if it does not exist or v may not read it.
	Get(ctx context.Context, v Viewer, kind Kind, id string) (Record, error)
	// GetMany returns the records named by refs in order, with nil where a
	// record is missing or not readable by v.
	GetMany(ctx context.Context, v Viewer, refs []Ref) ([]Record, error)
	// List pages through the records of one kind that v may read, in id order.
	List(ctx context.Context, v Viewer, kind Kind, opt ListOptions) (*Page, error)
	// Create stores a new record, generating its id when empty, and returns
	// it as stored. ECONFLICT if the id or external id is taken.
	Create(ctx context.Context, v Viewer, r Record) (Record, error)
	// Update replaces a record (created_at is kept). ENOTFOUND if absent;
	// ECONFLICT if r's version is set and is not the stored one.
	Update(ctx context.Context, v Viewer, r Record) (Record, error)
	// Delete removes a record. ENOTFOUND if absent; ECONFLICT if other
	// records refer to it (an enterprise's demands).
	Delete(ctx context.Context, v Viewer, kind Kind, id string) error
	// Import creates or updates many records in one transaction; see
	// ImportOptions for the all-or-nothing rule.
	Import(ctx context.Context, v Viewer, recs []Record, opt ImportOptions) (*ImportResult, error)
	// Counts returns the number of records of each kind.
	Counts(ctx context.Context) (map[Kind]int, error)

	// Head returns the sequence number of the latest change (0 if none).
	Head(ctx context.Context) (uint64, error)
	// Changes returns up to limit changes with Seq > since, in order.
	// ETRIMMED if changes after since were compacted away.
	Changes(ctx context.Context, since uint64, limit int) ([]Change, error)
	// Wait blocks until Head > after or ctx is done.
	Wait(ctx context.Context, after uint64) error
	// Scan calls fn for every record of every kind as of one consistent
	// point and returns that point's sequence number, so a consumer can
	// rebuild and then follow Changes from it.
	Scan(ctx context.Context, fn func(Record) error) (uint64, error)
	// Ack records that consumer has applied every change up to seq; changes
	// that every consumer has applied may be compacted.
	Ack(ctx context.Context, consumer string, seq uint64) error

	// CreateKey stores a new API key. Only admins may create keys.
	CreateKey(ctx context.Context, v Viewer, k *Key) error
	// KeyByHash returns the key with the given secret hash. ENOTFOUND if none.
	KeyByHash(ctx context.Context, hash string) (*Key, error)

	// AddFeedback records feedback on a match (see CanGiveFeedback); both
	// records must exist and be readable by v. It fills ID, By, Principal
	// and At.
	AddFeedback(ctx context.Context, v Viewer, f *Feedback) error
	// Feedback calls fn for every feedback entry in the order recorded.
	// Staff only.
	Feedback(ctx context.Context, v Viewer, fn func(Feedback) error) error

	// PutArtifact stores a new version of an artifact (its Version is the
	// previous highest plus one) and makes it the active one. Staff only.
	PutArtifact(ctx context.Context, v Viewer, a *Artifact) error
	// Artifact returns one version of an artifact with its data; version 0
	// means the active one. ENOTFOUND if there is none.
	Artifact(ctx context.Context, name string, version int64) (*Artifact, error)
	// Artifacts lists the versions of an artifact without their data,
	// newest first.
	Artifacts(ctx context.Context, name string) ([]Artifact, error)
	// ActivateArtifact makes an earlier (or later) version the active one:
	// a rollback. Staff only; ENOTFOUND if the version does not exist.
	ActivateArtifact(ctx context.Context, v Viewer, name string, version int64) error

	// PutEvent creates an event (Version 0; its ID generated when empty)
	// or replaces one (Version must be the stored one: ECONFLICT
	// otherwise), after Normalize, Validate and CanWriteEvent. It sets
	// Version and the timestamps.
	PutEvent(ctx context.Context, v Viewer, e *Event) error
	// Event returns an event v may read (ENOTFOUND otherwise).
	Event(ctx context.Context, v Viewer, id string) (*Event, error)
	// Events lists the events v may read, by date, newest first.
	Events(ctx context.Context, v Viewer) ([]*Event, error)

	Close() error
}

// Ref names one record.
type Ref struct {
	Kind Kind   `json:"type"`
	ID   string `json:"id"`
}

// Op is what a change did.
type Op string

// Change operations.
const (
	OpPut    Op = "put"
	OpDelete Op = "delete"
)

// Change is one entry of the change feed. It names the record rather than
// carrying it: a consumer reads the current state from the Store, so
// applying a change twice, or an old change after a newer one, converges.
type Change struct {
	Seq  uint64    `json:"seq"`
	Kind Kind      `json:"type"`
	ID   string    `json:"id"`
	Op   Op        `json:"op"`
	At   time.Time `json:"at"`
}

// Page limits.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// ListOptions selects a page of a list.
type ListOptions struct {
	Limit  int    // 1..MaxLimit; 0 means DefaultLimit
	Cursor string // opaque; from Page.NextCursor
}

// Validate checks the options and fills the default limit.
func (o *ListOptions) Validate() error {
	if o.Limit == 0 {
		o.Limit = DefaultLimit
	}
	if o.Limit < 0 || o.Limit > MaxLimit {
		return Errorf(EINVALID, "limit", "must be between 1 and %d", MaxLimit)
	}
	return nil
}

// Page is one page of a list.
type Page struct {
	Records    []Record
	Total      int    // records of this kind the viewer may read
	NextCursor string // "" on the last page
}

// ImportOptions controls Import.
type ImportOptions struct {
	// SkipInvalid stores the valid records and reports the others; without
	// it one invalid record rejects the whole import and nothing is written.
	SkipInvalid bool
	// DryRun reports what would happen and writes nothing.
	DryRun bool
	// IfEmpty imports only when the store holds no catalogue records (keys
	// do not count), checked in the same transaction; otherwise Skipped is set.
	IfEmpty bool
	// Progress, when set, is called now and then with the number of
	// records processed so far.
	Progress func(done int)
}

// Import actions.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionReject = "reject"
)

// ImportRow reports what happened (or would happen) to one record.
type ImportRow struct {
	Index  int    `json:"-"` // position in the input slice
	Kind   Kind   `json:"type"`
	ID     string `json:"id,omitempty"`
	Action string `json:"action"`
	Error  *Error `json:"error,omitempty"`
}

// ImportResult summarises an import.
type ImportResult struct {
	Created  int         `json:"created"`
	Updated  int         `json:"updated"`
	Rejected int         `json:"rejected"`
	Skipped  bool        `json:"skipped,omitempty"` // IfEmpty and the store was not empty
	DryRun   bool        `json:"dry_run,omitempty"`
	Seq      uint64      `json:"seq,omitempty"` // last change written
	Rows     []ImportRow `json:"rows"`
}

// Key is an API key. The secret is shown once at creation; the Store keeps
// only its SHA-256 (the secret is 160 random bits, so a fast hash suffices).
type Key struct {
	ID          string    `json:"id"`
	Role        Role      `json:"role"`
	Enterprise  string    `json:"enterprise,omitempty"`
	Institution string    `json:"institution,omitempty"`
	Name        string    `json:"name,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	Hash        string    `json:"hash"`
}

// Viewer returns the viewer a request made with k acts as.
func (k *Key) Viewer() Viewer {
	return Viewer{Role: k.Role, Enterprise: k.Enterprise, Institution: k.Institution, KeyID: k.ID}
}

var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewKey returns a new key for v's role and binding, and its secret.
func NewKey(v Viewer, name string, now time.Time) (*Key, string, error) {
	if err := v.Validate(); err != nil {
		return nil, "", err
	}
	var b, id [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, "", err
	}
	_, _ = rand.Read(id[:5])
	secret := "mm_" + keyEncoding.EncodeToString(b[:])
	k := &Key{ID: "key-" + keyEncoding.EncodeToString(id[:5]), Role: v.Role, Enterprise: v.Enterprise,
		Institution: v.Institution, Name: name, CreatedAt: now.UTC(), Hash: HashKey(secret)}
	return k, secret, nil
}

// HashKey returns the stored form of a key secret.
func HashKey(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Cache is a shared cache of computed answers (match results) that a
// Store may offer to every replica; the Redis store does. Generation reads
// the change feed's head and, for each kind, how many writes records of
// that kind have had, in one consistent step, so that a cache key built
// from them changes whenever a write could change the answer.
type Cache interface {
	CacheGet(ctx context.Context, key string) ([]byte, bool, error)
	CachePut(ctx context.Context, key string, val []byte, ttl time.Duration) error
	Generation(ctx context.Context, kinds []Kind) (head uint64, gens []uint64, err error)
}

// Leaser grants named leases that expire, so that a periodic job runs on
// one replica at a time: Lease takes the lease for holder, or renews it
// when holder has it, and reports whether holder has it now; Release
// gives it up (a holder that dies without releasing loses it when its ttl
// passes). The Redis store is a Leaser; a process that owns an embedded
// store needs none.
type Leaser interface {
	Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	Release(ctx context.Context, name, holder string) error
}
