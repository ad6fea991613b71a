// Package medmatch holds the domain of the medmatch catalogue: the records
// (achievements, clinical needs, teams, enterprises, demands, API keys), their
// validation, who may read and write them, the error kinds, and the Store
// interface that the embedded and Redis stores implement.
//
// It imports only the standard library, so the indexer, the matcher, the
// stores and the HTTP API can all depend on it without depending on each other.
package medmatch

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind names a record type. Its string form is used in JSON ("type"), in
// change-feed entries and in the index.
type Kind string

// The record kinds held by the Store.
const (
	KindAchievement Kind = "achievement"
	KindNeed        Kind = "need"
	KindTeam        Kind = "team"
	KindEnterprise  Kind = "enterprise"
	KindDemand      Kind = "demand"
)

// Kinds lists every catalogue record kind in a stable order.
var Kinds = []Kind{KindAchievement, KindNeed, KindTeam, KindEnterprise, KindDemand}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// Plural is the collection name used in API paths ("achievements").
func (k Kind) Plural() string {
	if k == KindEnterprise {
		return "enterprises"
	}
	return string(k) + "s"
}

// idPrefix is the prefix of generated ids; fixtures use the same prefixes.
func (k Kind) idPrefix() string {
	switch k {
	case KindAchievement:
		return "ach"
	case KindEnterprise:
		return "ent"
	case KindDemand:
		return "dem"
	}
	return string(k)
}

// ParseKind accepts a kind in singular or plural form ("achievement",
// "achievements"). It returns EINVALID naming field for anything else.
func ParseKind(field, s string) (Kind, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, k := range Kinds {
		if s == string(k) || s == k.Plural() {
			return k, nil
		}
	}
	return "", Errorf(EINVALID, field, "unknown record type %q (want one of achievement, need, team, enterprise, demand)", s)
}

// NewRecord returns an empty record of kind k, or nil for an unknown kind.
func NewRecord(k Kind) Record {
	switch k {
	case KindAchievement:
		return &Achievement{}
	case KindNeed:
		return &ClinicalNeed{}
	case KindTeam:
		return &Team{}
	case KindEnterprise:
		return &Enterprise{}
	case KindDemand:
		return &Demand{}
	}
	return nil
}

// Record is implemented by every catalogue record type.
type Record interface {
	// Kind is the record's type.
	Kind() Kind
	// Base gives access to the fields every record has.
	Base() *Meta
	// Audience lists the principals allowed to read the record; see Viewer.
	Audience() []string
	// Normalize trims text, maps taxonomy synonyms to their labels, removes
	// duplicates and fills documented defaults that do not depend on the writer.
	Normalize(t *Taxonomy)
	// Validate checks every field; it returns an *Error with Code EINVALID
	// naming the first bad field and listing all of them in Details.
	Validate(t *Taxonomy) error
	// Text returns the record's searchable text fields by name, title first.
	Text() []Field
}

// Field is one named text field of a record.
type Field struct {
	Name  string
	Value string
}

// Meta holds the fields every record has.
type Meta struct {
	// ID is the record's id, unique within its kind. Given by the writer
	// (letters, digits, '-', '_', '.'; at most 64 bytes) or generated.
	ID string `json:"id"`
	// ExternalID is the source system's own id; imports update the record
	// with the same external id instead of creating a new one.
	ExternalID string `json:"external_id,omitempty"`
	// Synthetic marks demo records.
	Synthetic bool `json:"synthetic,omitempty"`
	// Version counts writes; an update that names a version other than the
	// stored one fails with ECONFLICT, so concurrent edits are never lost.
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Base implements Record.
func (m *Meta) Base() *Meta { return m }

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidID reports whether id may be used as a record or key id.
func ValidID(id string) bool { return idPattern.MatchString(id) }

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewEventID returns a new event id ("evt-…"), time-ordered like NewID.
func NewEventID(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli()))
	_, _ = rand.Read(b[8:])
	return "evt-" + idEncoding.EncodeToString(b[2:])
}

// NewID returns a new id for a record of kind k: the kind's prefix and a
// time-ordered random suffix, so ids sort roughly by creation time.
func NewID(k Kind, now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli()))
	_, _ = rand.Read(b[8:])
	return k.idPrefix() + "-" + idEncoding.EncodeToString(b[2:])
}

func (m *Meta) validate(v *validator) {
	if m.ID != "" && !ValidID(m.ID) {
		v.add("id", "must be 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit")
	}
	if len(m.ExternalID) > 128 {
		v.add("external_id", "must be at most 128 bytes")
	}
	if strings.ContainsAny(m.ExternalID, "\n\r\t\x00") || !utf8.ValidString(m.ExternalID) {
		v.add("external_id", "must not contain control characters")
	}
}

func (m *Meta) normalize() {
	m.ID = strings.TrimSpace(m.ID)
	m.ExternalID = strings.TrimSpace(m.ExternalID)
}

// TitleOf is a record's title, or its name for teams and enterprises: the
// first of its text fields.
func TitleOf(r Record) string { return r.Text()[0].Value }
