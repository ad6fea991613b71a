package medmatch_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/dict"
)

var tax = dict.MustTaxonomy()

// Valid records of each kind; each test changes one thing.

func validAchievement() *medmatch.Achievement {
	return &medmatch.Achievement{
		Meta:  medmatch.Meta{ID: "ach-1"},
		Title: "可降解镁合金骨钉", Description: "用于骨折内固定，12个月内降解。",
		Institution: "东岚骨科医院", Specialty: "骨科", Fields: []string{"生物材料", "医疗器械"},
		Maturity: medmatch.MaturityPreclinical, Status: medmatch.StatusPublished, Visibility: medmatch.VisibilityPublic,
	}
}

func validNeed() *medmatch.ClinicalNeed {
	return &medmatch.ClinicalNeed{
		Meta:  medmatch.Meta{ID: "need-1"},
		Title: "床旁快速肌钙蛋白检测", Hospital: "云岫市中心医院", Specialty: "心血管", Fields: []string{"体外诊断"},
		Problem: "急诊胸痛患者等待检验结果超过一小时。", Status: medmatch.StatusPublished, Visibility: medmatch.VisibilityPublic,
	}
}

func validTeam() *medmatch.Team {
	return &medmatch.Team{
		Meta: medmatch.Meta{ID: "team-1"},
		Name: "智能医学工程研究所", Institution: "青岑工业大学", Expertise: "医学影像算法与嵌入式系统。",
	}
}

func validEnterprise() *medmatch.Enterprise {
	return &medmatch.Enterprise{Meta: medmatch.Meta{ID: "ent-1"}, Name: "岚芯医疗科技有限公司"}
}

func validDemand() *medmatch.Demand {
	return &medmatch.Demand{
		Meta: medmatch.Meta{ID: "dem-1"}, EnterpriseID: "ent-1",
		Title: "寻求可降解支架材料", Description: "希望合作开发镁合金血管支架。",
		Visibility: medmatch.DemandPublic, Status: medmatch.DemandOpen,
	}
}

// errField returns the Field of the *medmatch.Error in err's chain, or
// "<not *Error>".
func errField(err error) string {
	var e *medmatch.Error
	if !errors.As(err, &e) {
		return "<not *Error>"
	}
	return e.Field
}

// describe renders an error as code/field for failure messages.
func describe(err error) string {
	if err == nil {
		return "nil"
	}
	return fmt.Sprintf("%s (field %q: %v)", medmatch.ErrorCode(err), errField(err), err)
}

// vcase changes one thing in a valid record; field is the field the
// resulting EINVALID must name, or "" when the record must stay valid.
type vcase[R medmatch.Record] struct {
	name  string
	mod   func(R)
	field string
}

// runValidate normalises and validates base() changed by each case, as the
// Store does.
func runValidate[R medmatch.Record](t *testing.T, base func() R, cases []vcase[R]) {
	t.Helper()
	if err := base().Validate(tax); err != nil {
		t.Fatalf("base record: Validate = %s; want nil", describe(err))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := base()
			c.mod(r)
			r.Normalize(tax)
			err := r.Validate(tax)
			if c.field == "" {
				if err != nil {
					t.Errorf("Validate(%s) = %s; want nil", c.name, describe(err))
				}
				return
			}
			if medmatch.ErrorCode(err) != medmatch.EINVALID || errField(err) != c.field {
				t.Errorf("Validate(%s) = %s; want %s naming %q", c.name, describe(err), medmatch.EINVALID, c.field)
			}
		})
	}
}

func TestAchievementValidate(t *testing.T) {
	type A = *medmatch.Achievement
	long := func(n int) string { return strings.Repeat("号", n) }
	runValidate(t, validAchievement, []vcase[A]{
		// Required fields.
		{"no title", func(a A) { a.Title = "" }, "title"},
		{"blank title", func(a A) { a.Title = " \t " }, "title"},
		{"no description", func(a A) { a.Description = "" }, "description"},
		{"no institution", func(a A) { a.Institution = "" }, "institution"},
		{"no specialty", func(a A) { a.Specialty = "" }, "specialty"},
		{"no fields", func(a A) { a.Fields = nil }, "fields"},
		{"only blank fields", func(a A) { a.Fields = []string{" ", ""} }, "fields"},
		{"no maturity", func(a A) { a.Maturity = "" }, "maturity"},
		{"no status (no writer default applied)", func(a A) { a.Status = "" }, "status"},
		{"no visibility defaults to public", func(a A) { a.Visibility = "" }, ""},
		// Codes.
		{"maturity upper case", func(a A) { a.Maturity = " Clinical_Trial " }, ""},
		{"bad maturity", func(a A) { a.Maturity = "mature" }, "maturity"},
		{"bad status", func(a A) { a.Status = "live" }, "status"},
		{"demand visibility on achievement", func(a A) { a.Visibility = "private" }, "visibility"},
		{"organizers visibility", func(a A) { a.Visibility = medmatch.VisibilityOrganizers }, ""},
		{"transfer modes", func(a A) {
			a.TransferModes = []medmatch.TransferMode{"license", "EQUITY", "license", ""}
		}, ""},
		{"bad transfer mode", func(a A) { a.TransferModes = []medmatch.TransferMode{"license", "sale"} }, "transfer_modes"},
		// Taxonomy.
		{"specialty synonym", func(a A) { a.Specialty = "创伤骨科" }, ""},
		{"unknown specialty", func(a A) { a.Specialty = "星际医学" }, "specialty"},
		{"field synonym", func(a A) { a.Fields = []string{"ivd"} }, ""},
		{"unknown field", func(a A) { a.Fields = []string{"医疗器械", "量子医学"} }, "fields"},
		{"specialty given as a field", func(a A) { a.Fields = []string{"骨科"} }, "fields"},
		// Price.
		{"price range", func(a A) { a.Price = &medmatch.Price{Min: 200, Max: 400} }, ""},
		{"price min only", func(a A) { a.Price = &medmatch.Price{Min: 200} }, ""},
		{"price max only", func(a A) { a.Price = &medmatch.Price{Max: 400} }, ""},
		{"price min equals max", func(a A) { a.Price = &medmatch.Price{Min: 50, Max: 50} }, ""},
		{"price negotiable only", func(a A) { a.Price = &medmatch.Price{Negotiable: true} }, ""},
		{"price negative min", func(a A) { a.Price = &medmatch.Price{Min: -1} }, "price.min"},
		{"price negative max", func(a A) { a.Price = &medmatch.Price{Min: 10, Max: -5} }, "price.max"},
		{"price min above max", func(a A) { a.Price = &medmatch.Price{Min: 80, Max: 50} }, "price.max"},
		{"price in yuan not 万元", func(a A) { a.Price = &medmatch.Price{Min: 2_000_000, Max: 40_000_000} }, "price"},
		// IP.
		{"ip granted invention", func(a A) {
			a.IP = &medmatch.IP{Type: "invention", Status: "granted", Numbers: []string{"ZL202410000001.1"}}
		}, ""},
		{"ip type only (status defaults to none)", func(a A) { a.IP = &medmatch.IP{Type: "utility_model"} }, ""},
		{"ip codes upper case", func(a A) { a.IP = &medmatch.IP{Type: "Software_Copyright", Status: "FILED"} }, ""},
		{"ip filed without type", func(a A) { a.IP = &medmatch.IP{Status: "filed"} }, "ip.type"},
		{"ip lapsed without type", func(a A) { a.IP = &medmatch.IP{Status: "lapsed"} }, "ip.type"},
		{"ip bad type", func(a A) { a.IP = &medmatch.IP{Type: "patent", Status: "granted"} }, "ip.type"},
		{"ip bad status", func(a A) { a.IP = &medmatch.IP{Type: "invention", Status: "pending"} }, "ip.status"},
		{"ip numbers with status none", func(a A) {
			a.IP = &medmatch.IP{Type: "invention", Numbers: []string{"ZL1"}}
		}, "ip.status"},
		{"ip number too long", func(a A) {
			a.IP = &medmatch.IP{Type: "invention", Status: "filed", Numbers: []string{long(65)}}
		}, "ip.numbers"},
		{"ip number of 64 characters", func(a A) {
			a.IP = &medmatch.IP{Type: "invention", Status: "filed", Numbers: []string{long(64)}}
		}, ""},
		// Lists.
		{"team member of 100 characters", func(a A) { a.Team = []string{long(100)} }, ""},
		{"team member too long", func(a A) { a.Team = []string{"甲", long(101)} }, "team"},
		// Meta.
		{"no id (generated by the store)", func(a A) { a.ID = "" }, ""},
		{"id with space", func(a A) { a.ID = "ach 1" }, "id"},
		{"id starting with dash", func(a A) { a.ID = "-ach" }, "id"},
		{"id of 64 bytes", func(a A) { a.ID = strings.Repeat("a", 64) }, ""},
		{"id of 65 bytes", func(a A) { a.ID = strings.Repeat("a", 65) }, "id"},
		{"id in Chinese", func(a A) { a.ID = "成果1" }, "id"},
		{"external id of 128 bytes", func(a A) { a.ExternalID = strings.Repeat("x", 128) }, ""},
		{"external id of 129 bytes", func(a A) { a.ExternalID = strings.Repeat("x", 129) }, "external_id"},
		{"external id with tab inside", func(a A) { a.ExternalID = "SRC\t7" }, "external_id"},
		{"external id with newline inside", func(a A) { a.ExternalID = "SRC\n7" }, "external_id"},
	})
}

func TestClinicalNeedValidate(t *testing.T) {
	type N = *medmatch.ClinicalNeed
	runValidate(t, validNeed, []vcase[N]{
		{"no title", func(n N) { n.Title = "" }, "title"},
		{"no hospital", func(n N) { n.Hospital = "" }, "hospital"},
		{"no specialty", func(n N) { n.Specialty = "" }, "specialty"},
		{"no specialty, department names one", func(n N) { n.Specialty, n.Department = "", "心内科" }, ""},
		{"no specialty, department names none", func(n N) { n.Specialty, n.Department = "", "综合门诊" }, "specialty"},
		{"no fields", func(n N) { n.Fields = nil }, "fields"},
		{"no problem", func(n N) { n.Problem = "" }, "problem"},
		{"no status (no writer default applied)", func(n N) { n.Status = "" }, "status"},
		{"no visibility defaults to public", func(n N) { n.Visibility = "" }, ""},
		{"bad status", func(n N) { n.Status = "open" }, "status"},
		{"bad visibility", func(n N) { n.Visibility = "everyone" }, "visibility"},
		{"status upper case", func(n N) { n.Status = "Submitted" }, ""},
		{"specialty synonym", func(n N) { n.Specialty = "心内科" }, ""},
		{"unknown specialty", func(n N) { n.Specialty = "心脏" }, "specialty"},
		{"field synonym", func(n N) { n.Fields = []string{"POCT", "IVD"} }, ""},
		{"unknown field", func(n N) { n.Fields = []string{"芯片"} }, "fields"},
		{"bad id", func(n N) { n.ID = "need/1" }, "id"},
	})
}

func TestTeamValidate(t *testing.T) {
	type T = *medmatch.Team
	runValidate(t, validTeam, []vcase[T]{
		{"no name", func(tm T) { tm.Name = "" }, "name"},
		{"no institution", func(tm T) { tm.Institution = "" }, "institution"},
		{"no expertise", func(tm T) { tm.Expertise = "" }, "expertise"},
		{"specialties and fields optional", func(tm T) { tm.Specialties, tm.Fields = nil, nil }, ""},
		{"specialty synonyms", func(tm T) { tm.Specialties = []string{"神经外科", "影像科"} }, ""},
		{"unknown specialty", func(tm T) { tm.Specialties = []string{"神经", "星际医学"} }, "specialties"},
		{"field synonyms", func(tm T) { tm.Fields = []string{"医疗AI", "器械"} }, ""},
		{"unknown field", func(tm T) { tm.Fields = []string{"量子医学"} }, "fields"},
		{"bad id", func(tm T) { tm.ID = "team 1" }, "id"},
	})
}

func TestEnterpriseValidate(t *testing.T) {
	type E = *medmatch.Enterprise
	runValidate(t, validEnterprise, []vcase[E]{
		{"no name", func(e E) { e.Name = "" }, "name"},
		{"size", func(e E) { e.Size = "Medium" }, ""},
		{"bad size", func(e E) { e.Size = "huge" }, "size"},
		{"field synonym", func(e E) { e.Fields = []string{"IVD"} }, ""},
		{"unknown field", func(e E) { e.Fields = []string{"房地产"} }, "fields"},
		{"bad id", func(e E) { e.ID = "ent 1" }, "id"},
	})
}

func TestDemandValidate(t *testing.T) {
	type D = *medmatch.Demand
	runValidate(t, validDemand, []vcase[D]{
		{"no enterprise id", func(d D) { d.EnterpriseID = "" }, "enterprise_id"},
		{"bad enterprise id", func(d D) { d.EnterpriseID = "岚芯医疗" }, "enterprise_id"},
		{"no title", func(d D) { d.Title = "" }, "title"},
		{"no description", func(d D) { d.Description = "" }, "description"},
		{"no status or visibility (defaults)", func(d D) { d.Status, d.Visibility = "", "" }, ""},
		{"private closed", func(d D) { d.Status, d.Visibility = "closed", "private" }, ""},
		{"bad status", func(d D) { d.Status = "published" }, "status"},
		{"achievement visibility on demand", func(d D) { d.Visibility = "organizers" }, "visibility"},
		{"maturity list", func(d D) { d.Maturity = []medmatch.Maturity{"prototype", "Preclinical"} }, ""},
		{"bad maturity", func(d D) { d.Maturity = []medmatch.Maturity{"prototype", "beta"} }, "maturity"},
		{"bad transfer mode", func(d D) { d.TransferModes = []medmatch.TransferMode{"rent"} }, "transfer_modes"},
		{"specialty synonym", func(d D) { d.Specialty = "ICU" }, ""},
		{"unknown specialty", func(d D) { d.Specialty = "星际医学" }, "specialty"},
		{"field synonym", func(d D) { d.Fields = []string{"试剂盒"} }, ""},
		{"unknown field", func(d D) { d.Fields = []string{"量子医学"} }, "fields"},
		// Budget.
		{"budget range", func(d D) { d.Budget = &medmatch.Price{Min: 50, Max: 80} }, ""},
		{"budget negotiable only", func(d D) { d.Budget = &medmatch.Price{Negotiable: true} }, ""},
		{"budget negative min", func(d D) { d.Budget = &medmatch.Price{Min: -50} }, "budget.min"},
		{"budget negative max", func(d D) { d.Budget = &medmatch.Price{Max: -1} }, "budget.max"},
		{"budget min above max", func(d D) { d.Budget = &medmatch.Price{Min: 100, Max: 99} }, "budget.max"},
		{"budget too large", func(d D) { d.Budget = &medmatch.Price{Max: 1e8} }, "budget"},
		// Deadline.
		{"deadline", func(d D) { d.Deadline = "2027-06-30" }, ""},
		{"deadline with spaces", func(d D) { d.Deadline = " 2027-06-30 " }, ""},
		{"deadline leap day", func(d D) { d.Deadline = "2028-02-29" }, ""},
		{"deadline with slashes", func(d D) { d.Deadline = "2027/06/30" }, "deadline"},
		{"deadline without zero padding", func(d D) { d.Deadline = "2027-6-30" }, "deadline"},
		{"deadline not a day", func(d D) { d.Deadline = "2027-02-30" }, "deadline"},
		{"deadline not a leap day", func(d D) { d.Deadline = "2027-02-29" }, "deadline"},
		{"deadline with time", func(d D) { d.Deadline = "2027-06-30T00:00:00Z" }, "deadline"},
		{"deadline day first", func(d D) { d.Deadline = "30.06.2027" }, "deadline"},
		{"deadline in words", func(d D) { d.Deadline = "明年六月" }, "deadline"},
	})
}

// textField is one free-text field with its limit in characters.
type textField struct {
	base  func() medmatch.Record
	field string
	max   int
	set   func(medmatch.Record, string)
}

func textFields() []textField {
	ach := func() medmatch.Record { return validAchievement() }
	need := func() medmatch.Record { return validNeed() }
	team := func() medmatch.Record { return validTeam() }
	ent := func() medmatch.Record { return validEnterprise() }
	dem := func() medmatch.Record { return validDemand() }
	a := func(r medmatch.Record) *medmatch.Achievement { return r.(*medmatch.Achievement) }
	n := func(r medmatch.Record) *medmatch.ClinicalNeed { return r.(*medmatch.ClinicalNeed) }
	tm := func(r medmatch.Record) *medmatch.Team { return r.(*medmatch.Team) }
	e := func(r medmatch.Record) *medmatch.Enterprise { return r.(*medmatch.Enterprise) }
	d := func(r medmatch.Record) *medmatch.Demand { return r.(*medmatch.Demand) }
	return []textField{
		{ach, "title", 200, func(r medmatch.Record, s string) { a(r).Title = s }},
		{ach, "summary", 1000, func(r medmatch.Record, s string) { a(r).Summary = s }},
		{ach, "description", 20000, func(r medmatch.Record, s string) { a(r).Description = s }},
		{ach, "institution", 100, func(r medmatch.Record, s string) { a(r).Institution = s }},
		{ach, "region", 50, func(r medmatch.Record, s string) { a(r).Region = s }},
		{ach, "broker", 100, func(r medmatch.Record, s string) { a(r).Broker = s }},
		{need, "title", 200, func(r medmatch.Record, s string) { n(r).Title = s }},
		{need, "hospital", 100, func(r medmatch.Record, s string) { n(r).Hospital = s }},
		{need, "department", 50, func(r medmatch.Record, s string) { n(r).Department = s }},
		{need, "problem", 5000, func(r medmatch.Record, s string) { n(r).Problem = s }},
		{need, "current_practice", 5000, func(r medmatch.Record, s string) { n(r).CurrentPractice = s }},
		{need, "desired_outcome", 5000, func(r medmatch.Record, s string) { n(r).DesiredOutcome = s }},
		{need, "region", 50, func(r medmatch.Record, s string) { n(r).Region = s }},
		{team, "name", 200, func(r medmatch.Record, s string) { tm(r).Name = s }},
		{team, "institution", 100, func(r medmatch.Record, s string) { tm(r).Institution = s }},
		{team, "discipline", 100, func(r medmatch.Record, s string) { tm(r).Discipline = s }},
		{team, "expertise", 5000, func(r medmatch.Record, s string) { tm(r).Expertise = s }},
		{team, "region", 50, func(r medmatch.Record, s string) { tm(r).Region = s }},
		{ent, "name", 200, func(r medmatch.Record, s string) { e(r).Name = s }},
		{ent, "region", 50, func(r medmatch.Record, s string) { e(r).Region = s }},
		{ent, "profile", 5000, func(r medmatch.Record, s string) { e(r).Profile = s }},
		{dem, "title", 200, func(r medmatch.Record, s string) { d(r).Title = s }},
		{dem, "description", 20000, func(r medmatch.Record, s string) { d(r).Description = s }},
	}
}

// TestTextFields checks every free-text field: its length limit counts
// characters, not bytes; invalid UTF-8 and NUL are rejected naming the field.
func TestTextFields(t *testing.T) {
	for _, f := range textFields() {
		kind := f.base().Kind()
		for _, c := range []struct {
			name  string
			value string
			ok    bool
		}{
			{"at the limit", strings.Repeat("字", f.max), true},
			{"at the limit, surrounded by spaces", "  " + strings.Repeat("字", f.max) + "\n", true},
			{"one over the limit", strings.Repeat("字", f.max+1), false},
			{"one ASCII over the limit", strings.Repeat("a", f.max+1), false},
			{"invalid UTF-8", "骨钉\xff\xfe", false},
			{"truncated UTF-8", "骨钉"[:4], false},
			{"NUL", "骨\x00钉", false},
		} {
			t.Run(fmt.Sprintf("%s.%s/%s", kind, f.field, c.name), func(t *testing.T) {
				r := f.base()
				f.set(r, c.value)
				r.Normalize(tax)
				err := r.Validate(tax)
				switch {
				case c.ok && err != nil:
					t.Errorf("Validate(%s %s %s) = %s; want nil", kind, f.field, c.name, describe(err))
				case !c.ok && (medmatch.ErrorCode(err) != medmatch.EINVALID || errField(err) != f.field):
					t.Errorf("Validate(%s %s %s) = %s; want %s naming %q", kind, f.field, c.name, describe(err), medmatch.EINVALID, f.field)
				}
			})
		}
	}
}

// TestValidateDetails checks that one error names the first bad field and
// lists every problem in Details.
func TestValidateDetails(t *testing.T) {
	a := validAchievement()
	a.Title, a.Maturity, a.Price = "", "mature", &medmatch.Price{Min: -1}
	a.Normalize(tax)
	err := a.Validate(tax)
	var e *medmatch.Error
	if !errors.As(err, &e) {
		t.Fatalf("Validate = %v; want *medmatch.Error", err)
	}
	var got []string
	for _, d := range e.Details {
		got = append(got, d.Field)
	}
	want := []string{"title", "maturity", "price.min"}
	if e.Code != medmatch.EINVALID || e.Field != "title" || !reflect.DeepEqual(got, want) {
		t.Errorf("Validate = code %q field %q details %q; want %q, %q, %q", e.Code, e.Field, got, medmatch.EINVALID, "title", want)
	}
}

func TestNormalize(t *testing.T) {
	for _, c := range []struct {
		name string
		in   medmatch.Record
		want medmatch.Record
	}{
		{
			name: "achievement synonyms, trimming, codes, defaults",
			in: &medmatch.Achievement{
				Meta:  medmatch.Meta{ID: " ach-1 ", ExternalID: " SRC-1 "},
				Title: "  骨钉 ", Description: "降解\n", Institution: " 东岚骨科医院",
				Team: []string{" 甲组 ", "", "甲组", "乙组"}, Specialty: " 创伤骨科 ",
				Fields:   []string{"IVD", "体外诊断", " 器械 ", "ivd", ""},
				Maturity: " Prototype ", TransferModes: []medmatch.TransferMode{"LICENSE", " license", "", "equity"},
				IP:     &medmatch.IP{Type: " Invention ", Numbers: []string{" ZL1 ", "ZL1", ""}},
				Price:  &medmatch.Price{},
				Status: " Draft ", Region: " 东岚 ",
			},
			want: &medmatch.Achievement{
				Meta:  medmatch.Meta{ID: "ach-1", ExternalID: "SRC-1"},
				Title: "骨钉", Description: "降解", Institution: "东岚骨科医院",
				Team: []string{"甲组", "乙组"}, Specialty: "骨科",
				Fields:   []string{"体外诊断", "医疗器械"},
				Maturity: "prototype", TransferModes: []medmatch.TransferMode{"license", "equity"},
				IP:     &medmatch.IP{Type: "invention", Status: "none", Numbers: []string{"ZL1"}},
				Status: "draft", Visibility: "public", Region: "东岚",
			},
		},
		{
			name: "achievement cardiology department and empty IP dropped",
			in: &medmatch.Achievement{
				Specialty: "心内科", Fields: []string{"数字疗法"}, IP: &medmatch.IP{Status: "NONE"},
				Price: &medmatch.Price{Negotiable: true}, Visibility: "Organizers",
			},
			want: &medmatch.Achievement{
				Specialty: "心血管", Fields: []string{"数字医疗"},
				Price: &medmatch.Price{Negotiable: true}, Visibility: "organizers",
			},
		},
		{
			name: "unknown labels kept for Validate to name",
			in:   &medmatch.Achievement{Specialty: " 星际医学 ", Fields: []string{"量子医学", "IVD"}},
			want: &medmatch.Achievement{Specialty: "星际医学", Fields: []string{"量子医学", "体外诊断"}, Visibility: "public"},
		},
		{
			name: "need specialty from department",
			in:   &medmatch.ClinicalNeed{Department: " 心内科 ", Fields: []string{"ivd"}},
			want: &medmatch.ClinicalNeed{Department: "心内科", Specialty: "心血管", Fields: []string{"体外诊断"}, Visibility: "public"},
		},
		{
			name: "need specialty given wins over department",
			in:   &medmatch.ClinicalNeed{Department: "心内科", Specialty: "急诊", Visibility: "organizers"},
			want: &medmatch.ClinicalNeed{Department: "心内科", Specialty: "急诊重症", Visibility: "organizers"},
		},
		{
			name: "team lists",
			in:   &medmatch.Team{Name: " 组 ", Specialties: []string{"神经外科", "神经", "PCCM"}, Fields: []string{"医疗AI", ""}},
			want: &medmatch.Team{Name: "组", Specialties: []string{"神经", "呼吸"}, Fields: []string{"数字医疗"}},
		},
		{
			name: "enterprise",
			in:   &medmatch.Enterprise{Name: "岚芯 ", Size: " SMALL", Fields: []string{"first-in-class"}},
			want: &medmatch.Enterprise{Name: "岚芯", Size: "small", Fields: []string{"创新药"}},
		},
		{
			name: "demand defaults and empty budget dropped",
			in: &medmatch.Demand{
				EnterpriseID: " ent-1 ", Deadline: " 2027-06-30 ", Budget: &medmatch.Price{},
				Specialty: "骨外科", Maturity: []medmatch.Maturity{"Prototype", "prototype", ""},
			},
			want: &medmatch.Demand{
				EnterpriseID: "ent-1", Deadline: "2027-06-30", Specialty: "骨科",
				Maturity: []medmatch.Maturity{"prototype"}, Visibility: "public", Status: "open",
			},
		},
		{
			name: "demand codes lower-cased, negotiable budget kept",
			in:   &medmatch.Demand{Visibility: "PRIVATE", Status: "Closed", Budget: &medmatch.Price{Negotiable: true}},
			want: &medmatch.Demand{Visibility: "private", Status: "closed", Budget: &medmatch.Price{Negotiable: true}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.in.Normalize(tax)
			if !reflect.DeepEqual(c.in, c.want) {
				t.Errorf("Normalize(%s) = %+v; want %+v", c.name, c.in, c.want)
			}
		})
	}
}

// TestNormalizeBlankSpecialtyUsesDepartment: a specialty of only spaces is
// no specialty, so the department should name it as when it is "".
func TestNormalizeBlankSpecialtyUsesDepartment(t *testing.T) {
	n := validNeed()
	n.Specialty, n.Department = " ", "心内科"
	n.Normalize(tax)
	if n.Specialty != "心血管" {
		t.Errorf("Normalize(specialty %q, department %q).Specialty = %q; want %q", " ", "心内科", n.Specialty, "心血管")
	}
}

// TestListItemsRejectNUL: list items (team members, IP numbers) are text
// too and should be checked like other text fields.
func TestListItemsRejectNUL(t *testing.T) {
	for _, c := range []struct {
		field string
		mod   func(*medmatch.Achievement)
	}{
		{"team", func(a *medmatch.Achievement) { a.Team = []string{"甲\x00组"} }},
		{"ip.numbers", func(a *medmatch.Achievement) {
			a.IP = &medmatch.IP{Type: "invention", Status: "filed", Numbers: []string{"ZL\x001"}}
		}},
	} {
		a := validAchievement()
		c.mod(a)
		a.Normalize(tax)
		if err := a.Validate(tax); errField(err) != c.field {
			t.Errorf("Validate(%s with NUL) = %s; want %s naming %q", c.field, describe(err), medmatch.EINVALID, c.field)
		}
	}
}

func TestApplyDefaults(t *testing.T) {
	for _, c := range []struct {
		viewer medmatch.Viewer
		rec    medmatch.Record
		want   medmatch.Status // status after ApplyDefaults; "" for kinds without one
	}{
		{organizer, &medmatch.Achievement{}, medmatch.StatusPublished},
		{admin, &medmatch.Achievement{}, medmatch.StatusPublished},
		{medmatch.System, &medmatch.ClinicalNeed{}, medmatch.StatusPublished},
		{organizer, &medmatch.ClinicalNeed{}, medmatch.StatusPublished},
		{instOwn, &medmatch.Achievement{}, medmatch.StatusDraft},
		{instOwn, &medmatch.ClinicalNeed{}, medmatch.StatusDraft},
		{reader, &medmatch.Achievement{}, medmatch.StatusDraft},
		{anon, &medmatch.ClinicalNeed{}, medmatch.StatusDraft},
		{organizer, &medmatch.Achievement{Status: medmatch.StatusDraft}, medmatch.StatusDraft},
		{instOwn, &medmatch.Achievement{Status: medmatch.StatusSubmitted}, medmatch.StatusSubmitted},
		{organizer, &medmatch.ClinicalNeed{Status: medmatch.StatusWithdrawn}, medmatch.StatusWithdrawn},
	} {
		medmatch.ApplyDefaults(c.viewer, c.rec)
		var got medmatch.Status
		switch r := c.rec.(type) {
		case *medmatch.Achievement:
			got = r.Status
		case *medmatch.ClinicalNeed:
			got = r.Status
		}
		if got != c.want {
			t.Errorf("ApplyDefaults(%s, %s).Status = %q; want %q", viewerName(c.viewer), c.rec.Kind(), got, c.want)
		}
	}
	// Kinds whose defaults do not depend on the writer are left alone.
	for _, r := range []medmatch.Record{validTeam(), validEnterprise(), validDemand()} {
		before := fmt.Sprintf("%+v", r)
		medmatch.ApplyDefaults(organizer, r)
		if after := fmt.Sprintf("%+v", r); after != before {
			t.Errorf("ApplyDefaults(organizer, %s) = %s; want unchanged %s", r.Kind(), after, before)
		}
	}
}

// The viewers of the permission matrices, in column order.
var (
	anon      = medmatch.Viewer{}
	reader    = medmatch.Viewer{Role: medmatch.RoleReader, KeyID: "k-reader"}
	instOwn   = medmatch.Viewer{Role: medmatch.RoleInstitution, Institution: "东岚骨科医院", KeyID: "k-inst"}
	instOther = medmatch.Viewer{Role: medmatch.RoleInstitution, Institution: "云岫市中心医院", KeyID: "k-inst2"}
	entOwn    = medmatch.Viewer{Role: medmatch.RoleEnterprise, Enterprise: "ent-1", KeyID: "k-ent"}
	entOther  = medmatch.Viewer{Role: medmatch.RoleEnterprise, Enterprise: "ent-2", KeyID: "k-ent2"}
	organizer = medmatch.Viewer{Role: medmatch.RoleOrganizer, KeyID: "k-org"}
	admin     = medmatch.Viewer{Role: medmatch.RoleAdmin, KeyID: "k-admin"}

	viewers     = []medmatch.Viewer{anon, reader, instOwn, instOther, entOwn, entOther, organizer, admin}
	viewerNames = []string{"anonymous", "reader", "institution(own)", "institution(other)", "enterprise(own)", "enterprise(other)", "organizer", "admin"}
)

func viewerName(v medmatch.Viewer) string {
	for i, x := range viewers {
		if x == v {
			return viewerNames[i]
		}
	}
	return fmt.Sprintf("%+v", v)
}

// Records owned by instOwn (东岚骨科医院) and entOwn (ent-1).
func ach(status medmatch.Status, vis medmatch.Visibility) *medmatch.Achievement {
	a := validAchievement()
	a.Status, a.Visibility = status, vis
	return a
}

func need(status medmatch.Status, vis medmatch.Visibility) *medmatch.ClinicalNeed {
	n := validNeed()
	n.Hospital = instOwn.Institution
	n.Status, n.Visibility = status, vis
	return n
}

func team(inst string) *medmatch.Team {
	tm := validTeam()
	tm.Institution = inst
	return tm
}

func enterprise(id string) *medmatch.Enterprise {
	e := validEnterprise()
	e.ID = id
	return e
}

func demand(ent string, vis medmatch.DemandVisibility) *medmatch.Demand {
	d := validDemand()
	d.EnterpriseID, d.Visibility = ent, vis
	return d
}

func TestCanRead(t *testing.T) {
	// want has one character per viewer (anonymous, reader, institution own,
	// institution other, enterprise own, enterprise other, organizer, admin):
	// 1 may read, 0 may not.
	for _, c := range []struct {
		name string
		rec  medmatch.Record
		want string
	}{
		{"achievement published public", ach("published", "public"), "11111111"},
		{"achievement transferred public", ach("transferred", "public"), "11111111"},
		{"achievement published organizers", ach("published", "organizers"), "00100011"},
		{"achievement draft public", ach("draft", "public"), "00100011"},
		{"achievement submitted public", ach("submitted", "public"), "00100011"},
		{"achievement changes_requested", ach("changes_requested", "public"), "00100011"},
		{"achievement withdrawn public", ach("withdrawn", "public"), "00100011"},
		{"need published public", need("published", "public"), "11111111"},
		{"need published organizers", need("published", "organizers"), "00100011"},
		{"need draft", need("draft", "public"), "00100011"},
		{"team", team(instOwn.Institution), "11111111"},
		{"enterprise", enterprise("ent-1"), "11111111"},
		{"demand public", demand("ent-1", "public"), "11111111"},
		{"demand public closed", func() medmatch.Record { d := demand("ent-1", "public"); d.Status = "closed"; return d }(), "11111111"},
		{"demand private", demand("ent-1", "private"), "00001011"},
	} {
		for i, v := range viewers {
			want := c.want[i] == '1'
			if got := medmatch.CanRead(v, c.rec); got != want {
				t.Errorf("CanRead(%s, %s) = %v; want %v", viewerNames[i], c.name, got, want)
			}
		}
	}
}

func TestCanWrite(t *testing.T) {
	// want has one entry per viewer (anonymous, reader, institution own,
	// institution other, enterprise own, enterprise other, organizer, admin):
	// "ok" allowed, "U" EUNAUTHORIZED, "F:field" EFORBIDDEN naming field
	// ("F:" naming none).
	const ok = "ok"
	row := func(x ...string) [8]string { return [8]string(x) }
	submitted := ach("submitted", "public")
	moved := ach("draft", "public")
	moved.Institution = "云岫市中心医院"
	movedDemand := demand("ent-2", "public")
	for _, c := range []struct {
		name     string
		old, new medmatch.Record
		want     [8]string
	}{
		{"create achievement, no status", nil, ach("", "public"),
			row("U", "F:", ok, "F:institution", "F:", "F:", ok, ok)},
		{"create achievement draft", nil, ach("draft", "public"),
			row("U", "F:", ok, "F:institution", "F:", "F:", ok, ok)},
		{"create achievement submitted", nil, ach("submitted", "public"),
			row("U", "F:", ok, "F:institution", "F:", "F:", ok, ok)},
		{"create achievement withdrawn", nil, ach("withdrawn", "public"),
			row("U", "F:", ok, "F:institution", "F:", "F:", ok, ok)},
		{"create achievement published", nil, ach("published", "public"),
			row("U", "F:", "F:status", "F:institution", "F:", "F:", ok, ok)},
		{"create achievement transferred", nil, ach("transferred", "public"),
			row("U", "F:", "F:status", "F:institution", "F:", "F:", ok, ok)},
		{"create achievement changes_requested", nil, ach("changes_requested", "public"),
			row("U", "F:", "F:status", "F:institution", "F:", "F:", ok, ok)},
		{"submit a draft", ach("draft", "public"), submitted,
			row("U", "F:", ok, "F:institution", "F:", "F:", ok, ok)},
		{"publish a submitted achievement", submitted, ach("published", "public"),
			row("U", "F:", "F:status", "F:institution", "F:", "F:", ok, ok)},
		{"move an achievement to another institution", ach("draft", "public"), moved,
			row("U", "F:", "F:institution", "F:institution", "F:", "F:", ok, ok)},
		{"delete a draft", ach("draft", "public"), nil,
			row("U", "F:", ok, "F:institution", "F:", "F:", ok, ok)},
		{"create need", nil, need("", "public"),
			row("U", "F:", ok, "F:hospital", "F:", "F:", ok, ok)},
		{"create need published", nil, need("published", "public"),
			row("U", "F:", "F:status", "F:hospital", "F:", "F:", ok, ok)},
		{"create team", nil, team(instOwn.Institution),
			row("U", "F:", ok, "F:institution", "F:", "F:", ok, ok)},
		{"delete team", team(instOwn.Institution), nil,
			row("U", "F:", ok, "F:institution", "F:", "F:", ok, ok)},
		{"create enterprise", nil, enterprise("ent-1"),
			row("U", "F:", "F:", "F:", "F:", "F:id", ok, ok)},
		{"update enterprise", enterprise("ent-1"), enterprise("ent-1"),
			row("U", "F:", "F:", "F:", ok, "F:id", ok, ok)},
		{"delete enterprise", enterprise("ent-1"), nil,
			row("U", "F:", "F:", "F:", "F:", "F:id", ok, ok)},
		{"create public demand", nil, demand("ent-1", "public"),
			row("U", "F:", "F:", "F:", ok, "F:enterprise_id", ok, ok)},
		{"create private demand", nil, demand("ent-1", "private"),
			row("U", "F:", "F:", "F:", ok, "F:enterprise_id", ok, ok)},
		{"move a demand to another enterprise", demand("ent-1", "public"), movedDemand,
			row("U", "F:", "F:", "F:", "F:enterprise_id", "F:enterprise_id", ok, ok)},
		{"delete demand", demand("ent-1", "private"), nil,
			row("U", "F:", "F:", "F:", ok, "F:enterprise_id", ok, ok)},
	} {
		for i, v := range viewers {
			err := medmatch.CanWrite(v, c.old, c.new)
			want := c.want[i]
			var good bool
			switch {
			case want == ok:
				good = err == nil
			case want == "U":
				good = medmatch.ErrorCode(err) == medmatch.EUNAUTHORIZED
			default:
				good = medmatch.ErrorCode(err) == medmatch.EFORBIDDEN && errField(err) == strings.TrimPrefix(want, "F:")
			}
			if !good {
				t.Errorf("CanWrite(%s, %s) = %s; want %s", viewerNames[i], c.name, describe(err), want)
			}
		}
	}
}

// TestCanWriteChangesRequested: an organizer sends a submitted record back
// with status changes_requested; the institution must then be able to edit
// and resubmit it.
func TestCanWriteChangesRequested(t *testing.T) {
	old := ach(medmatch.StatusChangesRequested, "public")
	for _, s := range []medmatch.Status{medmatch.StatusDraft, medmatch.StatusSubmitted, medmatch.StatusWithdrawn} {
		if err := medmatch.CanWrite(instOwn, old, ach(s, "public")); err != nil {
			t.Errorf("CanWrite(institution(own), changes_requested → %s) = %s; want nil", s, describe(err))
		}
	}
}

func TestViewerValidate(t *testing.T) {
	for _, c := range []struct {
		v     medmatch.Viewer
		field string // "" valid
	}{
		{medmatch.Viewer{Role: medmatch.RoleAdmin}, ""},
		{medmatch.Viewer{Role: medmatch.RoleOrganizer}, ""},
		{medmatch.Viewer{Role: medmatch.RoleReader}, ""},
		{medmatch.Viewer{Role: medmatch.RoleInstitution, Institution: "东岚骨科医院"}, ""},
		{medmatch.Viewer{Role: medmatch.RoleEnterprise, Enterprise: "ent-1"}, ""},
		{medmatch.Viewer{Role: medmatch.RoleEnterprise}, "enterprise"},
		{medmatch.Viewer{Role: medmatch.RoleEnterprise, Enterprise: "ent-1", Institution: "东岚骨科医院"}, "institution"},
		{medmatch.Viewer{Role: medmatch.RoleInstitution}, "institution"},
		{medmatch.Viewer{Role: medmatch.RoleInstitution, Institution: "东岚骨科医院", Enterprise: "ent-1"}, "enterprise"},
		{medmatch.Viewer{Role: medmatch.RoleAdmin, Enterprise: "ent-1"}, "role"},
		{medmatch.Viewer{Role: medmatch.RoleOrganizer, Institution: "东岚骨科医院"}, "role"},
		{medmatch.Viewer{Role: medmatch.RoleReader, Enterprise: "ent-1"}, "role"},
		{medmatch.Viewer{}, "role"},
		{medmatch.Viewer{Role: "superuser"}, "role"},
		{medmatch.Viewer{Role: "Admin"}, "role"},
	} {
		err := c.v.Validate()
		if c.field == "" && err != nil || c.field != "" && (medmatch.ErrorCode(err) != medmatch.EINVALID || errField(err) != c.field) {
			want := "nil"
			if c.field != "" {
				want = medmatch.EINVALID + " naming " + c.field
			}
			t.Errorf("%+v.Validate() = %s; want %s", c.v, describe(err), want)
		}
	}
}

func TestParseKind(t *testing.T) {
	for _, c := range []struct {
		in   string
		want medmatch.Kind // "" invalid
	}{
		{"achievement", medmatch.KindAchievement},
		{"achievements", medmatch.KindAchievement},
		{" Achievements ", medmatch.KindAchievement},
		{"need", medmatch.KindNeed},
		{"NEEDS", medmatch.KindNeed},
		{"team", medmatch.KindTeam},
		{"teams", medmatch.KindTeam},
		{"enterprise", medmatch.KindEnterprise},
		{"enterprises", medmatch.KindEnterprise},
		{"demand", medmatch.KindDemand},
		{"demands", medmatch.KindDemand},
		{"", ""},
		{"achievment", ""},
		{"enterprisess", ""},
		{"clinical_need", ""},
		{"key", ""},
		{"成果", ""},
	} {
		got, err := medmatch.ParseKind("type", c.in)
		switch {
		case c.want != "" && (got != c.want || err != nil):
			t.Errorf("ParseKind(%q) = %q, %s; want %q, nil", c.in, got, describe(err), c.want)
		case c.want == "" && (got != "" || medmatch.ErrorCode(err) != medmatch.EINVALID || errField(err) != "type"):
			t.Errorf("ParseKind(%q) = %q, %s; want \"\", %s naming type", c.in, got, describe(err), medmatch.EINVALID)
		}
	}
}

func TestDecodeRecord(t *testing.T) {
	for _, c := range []struct {
		kind  medmatch.Kind
		in    string
		field string // the field the EINVALID names; "-" means success
	}{
		{medmatch.KindAchievement, `{"title":"骨钉","fields":["生物材料"],"price":{"min":1,"negotiable":true},"ip":{"type":"invention"}}`, "-"},
		{medmatch.KindNeed, `{"id":"need-1","hospital":"云岫市中心医院","version":3,"synthetic":true}`, "-"},
		{medmatch.KindTeam, `{"name":"组","specialties":["神经"]}`, "-"},
		{medmatch.KindEnterprise, `{"name":"岚芯","size":"small"}`, "-"},
		{medmatch.KindDemand, `{"enterprise_id":"ent-1","budget":{"max":80},"maturity":["prototype"],"deadline":"2027-06-30"}`, "-"},
		{medmatch.KindAchievement, " \n{\"title\":\"骨钉\"}\n\t ", "-"},
		{medmatch.KindAchievement, `{"created_at":"2026-01-02T15:04:05Z"}`, "-"},
		// Unknown fields are named.
		{medmatch.KindAchievement, `{"titel":"骨钉"}`, "titel"},
		{medmatch.KindNeed, `{"title":"t","problems":"p"}`, "problems"},
		{medmatch.KindTeam, `{"name":"组","type":"team"}`, "type"},
		{medmatch.KindEnterprise, `{"name":"岚芯","hospital":"x"}`, "hospital"},
		{medmatch.KindDemand, `{"enterprise_id":"ent-1","price":{"min":1}}`, "price"},
		// Type mismatches are named.
		{medmatch.KindAchievement, `{"fields":"医疗器械"}`, "fields"},
		{medmatch.KindAchievement, `{"title":42}`, "title"},
		{medmatch.KindAchievement, `{"maturity":3}`, "maturity"},
		{medmatch.KindAchievement, `{"team":[1]}`, "team"},
		{medmatch.KindAchievement, `{"price":50}`, "price"},
		{medmatch.KindAchievement, `{"price":{"min":"50"}}`, "price.min"},
		{medmatch.KindAchievement, `{"price":{"negotiable":"面议"}}`, "price.negotiable"},
		{medmatch.KindAchievement, `{"ip":{"numbers":"ZL1"}}`, "ip.numbers"},
		{medmatch.KindDemand, `{"budget":{"max":"80"}}`, "budget.max"},
		{medmatch.KindDemand, `{"maturity":"prototype"}`, "maturity"},
		{medmatch.KindEnterprise, `{"fields":{"a":1}}`, "fields"},
		// Whole-body problems name no field.
		{medmatch.KindAchievement, ``, ""},
		{medmatch.KindAchievement, " \n\t", ""},
		{medmatch.KindAchievement, `{"title":"a"} {"title":"b"}`, ""},
		{medmatch.KindAchievement, `{"title":"a"}}`, ""},
		{medmatch.KindAchievement, `{"title":"a"} x`, ""},
		{medmatch.KindAchievement, `{"title":"a"`, ""},
		{medmatch.KindAchievement, `{"title":}`, ""},
		{medmatch.KindAchievement, `{'title':'a'}`, ""},
		// An unknown kind.
		{"patent", `{}`, "type"},
		{"", `{}`, "type"},
	} {
		r, err := medmatch.DecodeRecord(c.kind, []byte(c.in))
		if c.field == "-" {
			if err != nil || r == nil || r.Kind() != c.kind {
				t.Errorf("DecodeRecord(%s, %q) = %v, %s; want a %s, nil", c.kind, c.in, r, describe(err), c.kind)
			}
			continue
		}
		if r != nil || medmatch.ErrorCode(err) != medmatch.EINVALID || errField(err) != c.field {
			t.Errorf("DecodeRecord(%s, %q) = %v, %s; want nil, %s naming %q", c.kind, c.in, r, describe(err), medmatch.EINVALID, c.field)
		}
	}
}

// TestDecodeRecordValues checks that decoding fills the right fields.
func TestDecodeRecordValues(t *testing.T) {
	r, err := medmatch.DecodeRecord(medmatch.KindDemand, []byte(`{"id":"dem-9","external_id":"E9","enterprise_id":"ent-1",
		"title":"t","description":"d","budget":{"min":50,"max":80},"maturity":["prototype","preclinical"],
		"deadline":"2027-06-30","visibility":"private","status":"closed","version":2}`))
	if err != nil {
		t.Fatalf("DecodeRecord = %s; want nil", describe(err))
	}
	want := &medmatch.Demand{
		Meta: medmatch.Meta{ID: "dem-9", ExternalID: "E9", Version: 2}, EnterpriseID: "ent-1", Title: "t", Description: "d",
		Budget: &medmatch.Price{Min: 50, Max: 80}, Maturity: []medmatch.Maturity{"prototype", "preclinical"},
		Deadline: "2027-06-30", Visibility: "private", Status: "closed",
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("DecodeRecord = %+v; want %+v", r, want)
	}
}

// TestDecodeRecordFieldNames: what the decoder says about the embedded
// Meta and nested objects. Each case names the field a client sent.
func TestDecodeRecordFieldNames(t *testing.T) {
	for _, c := range []struct {
		in, field string
	}{
		{`{"version":"1"}`, "version"},
		{`{"id":5}`, "id"},
		{`{"external_id":7}`, "external_id"},
		{`{"synthetic":"yes"}`, "synthetic"},
		{`{"price":{"foo":1}}`, "price.foo"},
		{`{"created_at":5}`, "created_at"},
		{`{"updated_at":"yesterday"}`, "updated_at"},
	} {
		_, err := medmatch.DecodeRecord(medmatch.KindAchievement, []byte(c.in))
		if medmatch.ErrorCode(err) != medmatch.EINVALID || errField(err) != c.field {
			t.Errorf("DecodeRecord(achievement, %q) = %s; want %s naming %q", c.in, describe(err), medmatch.EINVALID, c.field)
		}
	}
}

// TestDecodeRecordJSONTypeNames: the "want X" part of a type mismatch.
func TestDecodeRecordJSONTypeNames(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{`{"ip":{"type":5}}`, "want a string"},
		{`{"ip":{"status":true}}`, "want a string"},
		{`[]`, "want a JSON object, got an array"},
		{`"骨钉"`, "want a JSON object, got a string"},
	} {
		_, err := medmatch.DecodeRecord(medmatch.KindAchievement, []byte(c.in))
		if msg := medmatch.ErrorMessage(err); !strings.HasPrefix(msg, c.want) {
			t.Errorf("DecodeRecord(achievement, %q) message = %q; want it to start with %q", c.in, msg, c.want)
		}
	}
}

func TestNewKey(t *testing.T) {
	now := time.Date(2026, 11, 25, 21, 0, 0, 0, time.FixedZone("CST", 8*3600))
	const base32 = "abcdefghijklmnopqrstuvwxyz234567"
	isKeyText := func(s string) bool {
		for _, r := range s {
			if !strings.ContainsRune(base32, r) {
				return false
			}
		}
		return true
	}
	seen := make(map[string]bool)
	for _, v := range []medmatch.Viewer{
		{Role: medmatch.RoleAdmin},
		{Role: medmatch.RoleOrganizer},
		{Role: medmatch.RoleReader},
		{Role: medmatch.RoleInstitution, Institution: "东岚骨科医院"},
		{Role: medmatch.RoleEnterprise, Enterprise: "ent-1"},
	} {
		for range 20 {
			k, secret, err := medmatch.NewKey(v, "ci", now)
			if err != nil {
				t.Fatalf("NewKey(%+v) = %s; want nil", v, describe(err))
			}
			// The secret: mm_ and 160 bits in lower-case base32.
			body, found := strings.CutPrefix(secret, "mm_")
			if !found || len(body) != 32 || !isKeyText(body) {
				t.Errorf("NewKey(%+v) secret = %q; want mm_ and 32 base32 characters", v, secret)
			}
			// The stored hash: hex SHA-256 of the secret, never the secret.
			if k.Hash != medmatch.HashKey(secret) {
				t.Errorf("NewKey(%+v).Hash = %q; want HashKey(secret) = %q", v, k.Hash, medmatch.HashKey(secret))
			}
			if h, err := hex.DecodeString(k.Hash); err != nil || len(h) != 32 {
				t.Errorf("NewKey(%+v).Hash = %q; want 64 hex digits", v, k.Hash)
			}
			if k.Hash == secret || strings.Contains(k.Hash, body) {
				t.Errorf("NewKey(%+v).Hash = %q contains the secret %q", v, k.Hash, secret)
			}
			// The id: key- and 8 base32 characters, sharing nothing with the secret.
			idBody, found := strings.CutPrefix(k.ID, "key-")
			if !found || len(idBody) != 8 || !isKeyText(idBody) || !medmatch.ValidID(k.ID) {
				t.Errorf("NewKey(%+v).ID = %q; want key- and 8 base32 characters", v, k.ID)
			}
			if strings.Contains(secret, idBody) || strings.Contains(k.Hash, idBody) {
				t.Errorf("NewKey(%+v).ID = %q is part of the secret %q or its hash", v, k.ID, secret)
			}
			if seen[k.ID] || seen[secret] {
				t.Errorf("NewKey(%+v) = id %q, secret %q; want both new", v, k.ID, secret)
			}
			seen[k.ID], seen[secret] = true, true
			// The binding and the time.
			if k.Role != v.Role || k.Enterprise != v.Enterprise || k.Institution != v.Institution || k.Name != "ci" {
				t.Errorf("NewKey(%+v) = %+v; want the viewer's role and binding, name ci", v, k)
			}
			if !k.CreatedAt.Equal(now) || k.CreatedAt.Location() != time.UTC {
				t.Errorf("NewKey(%+v).CreatedAt = %v; want %v in UTC", v, k.CreatedAt, now)
			}
			if got := k.Viewer(); got.Role != v.Role || got.Enterprise != v.Enterprise || got.Institution != v.Institution || got.KeyID != k.ID {
				t.Errorf("NewKey(%+v).Viewer() = %+v; want the viewer with KeyID %q", v, got, k.ID)
			}
		}
	}
}

func TestNewKeyInvalidViewer(t *testing.T) {
	for _, c := range []struct {
		v     medmatch.Viewer
		field string
	}{
		{medmatch.Viewer{}, "role"},
		{medmatch.Viewer{Role: medmatch.RoleEnterprise}, "enterprise"},
		{medmatch.Viewer{Role: medmatch.RoleInstitution}, "institution"},
		{medmatch.Viewer{Role: medmatch.RoleAdmin, Institution: "东岚骨科医院"}, "role"},
	} {
		k, secret, err := medmatch.NewKey(c.v, "", time.Now())
		if k != nil || secret != "" || medmatch.ErrorCode(err) != medmatch.EINVALID || errField(err) != c.field {
			t.Errorf("NewKey(%+v) = %v, %q, %s; want nil, \"\", %s naming %q", c.v, k, secret, describe(err), medmatch.EINVALID, c.field)
		}
	}
}

func TestHashKey(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		// SHA-256 test vectors.
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	} {
		if got := medmatch.HashKey(c.in); got != c.want {
			t.Errorf("HashKey(%q) = %q; want %q", c.in, got, c.want)
		}
	}
	if a, b := medmatch.HashKey("mm_a"), medmatch.HashKey("mm_b"); a == b {
		t.Errorf("HashKey(mm_a) = HashKey(mm_b) = %q; want different hashes", a)
	}
}
