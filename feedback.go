package medmatch

import (
	"regexp"
	"time"
	"unicode/utf8"
)

// FeedbackAction is what a user did with a match.
type FeedbackAction string

// Feedback actions, each with the relevance grade it stands for when the
// matcher's weights are trained (see Grade).
const (
	FeedbackInterest        FeedbackAction = "interest"         // wants to hear more
	FeedbackDismiss         FeedbackAction = "dismiss"          // not relevant
	FeedbackMeetingPositive FeedbackAction = "meeting_positive" // met; both sides continue
	FeedbackMeetingNegative FeedbackAction = "meeting_negative" // met; no fit after all
	FeedbackDeal            FeedbackAction = "deal"             // licence, sale or co-development agreed
)

// FeedbackActions lists the actions.
var FeedbackActions = []FeedbackAction{FeedbackInterest, FeedbackDismiss, FeedbackMeetingPositive, FeedbackMeetingNegative, FeedbackDeal}

// Grade is the relevance grade (0–3, as in the labelled pairs) the action
// stands for: a dismissal says the match was irrelevant, interest that it
// was relevant, a deal or a good meeting that it was exactly right. A
// meeting without a fit still says the match was worth a meeting.
func (a FeedbackAction) Grade() int {
	switch a {
	case FeedbackDismiss:
		return 0
	case FeedbackMeetingNegative:
		return 1
	case FeedbackInterest:
		return 2
	}
	return 3
}

// Feedback records what someone did with one match: Source is what was
// matched from (a demand, achievement or clinical need), Target the match.
type Feedback struct {
	ID     string         `json:"id"`
	Source Ref            `json:"source"`
	Target Ref            `json:"target"`
	Action FeedbackAction `json:"action"`
	Note   string         `json:"note,omitempty"`
	// By is the key that recorded it and Principal who that key speaks for
	// (staff, ent:ID or inst:NAME); both set by the Store.
	By        string    `json:"by,omitempty"`
	Principal string    `json:"principal,omitempty"`
	At        time.Time `json:"at"`
}

// Validate checks the feedback's fields (not whether the records exist).
func (f *Feedback) Validate() error {
	var v validator
	for _, r := range []struct {
		name string
		ref  Ref
	}{{"source", f.Source}, {"target", f.Target}} {
		if !r.ref.Kind.Valid() {
			v.add(r.name+".type", "must be one of achievement, need, team, enterprise, demand")
		}
		if !ValidID(r.ref.ID) {
			v.add(r.name+".id", "is required and must be a valid id")
		}
	}
	checkEnum(&v, "action", f.Action, FeedbackActions, true)
	if utf8.RuneCountInString(f.Note) > 1000 {
		v.add("note", "must be at most 1000 characters")
	}
	return v.err()
}

// Owner is the principal v writes for: ent:ID, inst:NAME, or staff; "" for
// readers and anonymous viewers.
func (v Viewer) Owner() string {
	switch v.Role {
	case RoleAdmin, RoleOrganizer:
		return PrincipalStaff
	case RoleEnterprise:
		return EnterprisePrincipal(v.Enterprise)
	case RoleInstitution:
		return InstitutionPrincipal(v.Institution)
	}
	return ""
}

// Owns reports whether r belongs to v's enterprise or institution (staff
// own everything).
func Owns(v Viewer, r Record) bool {
	o := v.Owner()
	if o == "" {
		return false
	}
	if o == PrincipalStaff {
		return true
	}
	for _, a := range r.Audience() {
		if a == o {
			return true
		}
	}
	return false
}

// CanGiveFeedback checks that v may record feedback on the match from
// source to target: signed in, and (unless staff) owning one of the two
// records — an enterprise rates matches for its own demands or profile, an
// institution for its own achievements and needs.
func CanGiveFeedback(v Viewer, source, target Record) error {
	if v.Anonymous() {
		return Errorf(EUNAUTHORIZED, "", "sign in or send an API key to record feedback")
	}
	if Owns(v, source) || Owns(v, target) {
		return nil
	}
	return Errorf(EFORBIDDEN, "source", "feedback is recorded by staff or by the owner of the source or the target")
}

// Artifact is a versioned blob fitted from the catalogue and shared by
// every replica through the Store: the matcher's semantic model and its
// weight sets. Versions of one name count up from 1; one version is active
// (the newest unless rolled back).
type Artifact struct {
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	Note      string    `json:"note,omitempty"` // what it was fitted from, its evaluation
	Size      int       `json:"size"`           // len(Data)
	Active    bool      `json:"active"`
	Data      []byte    `json:"-"`
}

// MaxArtifactSize bounds one artifact (a semantic model at k = 128 over
// 100k terms is about 52 MB).
const MaxArtifactSize = 256 << 20

// CanManageArtifacts checks that v may store or activate artifacts.
func CanManageArtifacts(v Viewer) error {
	if v.Anonymous() {
		return Errorf(EUNAUTHORIZED, "", "an organizer or admin key is needed")
	}
	if !v.Staff() {
		return Errorf(EFORBIDDEN, "", "only organizers and admins train or roll back models")
	}
	return nil
}

// ValidArtifactName reports whether name may name an artifact.
func ValidArtifactName(name string) bool { return artifactName.MatchString(name) }

var artifactName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$`)
