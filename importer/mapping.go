package importer

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/medmatch/medmatch"
)

// Spreadsheets from transfer offices name their columns in Chinese or
// English, in any order. headerSynonyms maps a column header (lower case,
// NFKC, without spaces and the usual decorations) to the field path it
// fills; "" marks a column that is read and ignored (序号, 备注).
var headerSynonyms = map[string]string{
	// achievements (and the fields other kinds share)
	"成果名称": "title", "项目名称": "title", "名称": "title", "标题": "title", "成果": "title", "需求名称": "title",
	"摘要": "summary", "成果简介": "summary", "简介": "summary", "一句话介绍": "summary",
	"成果介绍": "description", "详细介绍": "description", "成果描述": "description", "项目介绍": "description",
	"技术说明": "description", "描述": "description", "内容": "description", "需求描述": "description",
	"完成单位": "institution", "单位": "institution", "机构": "institution", "所属单位": "institution",
	"依托单位": "institution", "成果单位": "institution", "所属机构": "institution",
	"团队": "team", "团队成员": "team", "完成人": "team", "发明人": "team", "主要完成人": "team",
	"专科": "specialty", "所属专科": "specialty", "临床专科": "specialty",
	"技术领域": "fields", "领域": "fields", "所属领域": "fields", "行业领域": "fields",
	"成熟度": "maturity", "研发阶段": "maturity", "阶段": "maturity", "所处阶段": "maturity", "成熟阶段": "maturity",
	"知识产权类型": "ip.type", "专利类型": "ip.type",
	"知识产权状态": "ip.status", "专利状态": "ip.status", "法律状态": "ip.status",
	"专利号": "ip.numbers", "申请号": "ip.numbers", "专利申请号": "ip.numbers", "登记号": "ip.numbers", "专利(申请)号": "ip.numbers",
	"转化方式": "transfer_modes", "合作方式": "transfer_modes", "交易方式": "transfer_modes",
	"价格": "price", "意向价格": "price", "转让价格": "price", "报价": "price", "价格(万元)": "price", "期望价格": "price",
	"预算": "budget", "预算(万元)": "budget",
	"地区": "region", "所在地区": "region", "省份": "region", "所在地": "region",
	"技术经纪人": "broker", "经纪人": "broker",
	"编号": "external_id", "成果编号": "external_id", "原编号": "external_id", "外部编号": "external_id",
	"状态": "status", "可见性": "visibility",
	// clinical needs
	"医院": "hospital", "提出单位": "hospital", "科室": "department", "临床问题": "problem", "问题描述": "problem",
	"现有方案": "current_practice", "现有做法": "current_practice", "期望效果": "desired_outcome", "期望目标": "desired_outcome",
	// read and ignored
	"序号": "", "备注": "", "no.": "", "no": "", "#": "", "remarks": "", "notes": "",
}

var headerDecor = strings.NewReplacer(" ", "", "\u3000", "", "*", "", "：", "", ":", "", "（", "(", "）", ")", "\n", "")

// headerField returns the field path a column header names, ignore when
// the column is one to skip, and ok false when the header is unknown.
func headerField(h string, kind medmatch.Kind) (path string, ignore, ok bool) {
	c := strings.ToLower(headerDecor.Replace(norm.NFKC.String(strings.TrimSpace(h))))
	p, found := headerSynonyms[c]
	if i := strings.LastIndexByte(c, '('); !found && i > 0 && strings.HasSuffix(c, ")") {
		// A unit or a note in brackets: 意向价格(万元), 专利号(多个用、分隔).
		p, found = headerSynonyms[c[:i]]
	}
	if found {
		if p == "" {
			return "", true, true
		}
		return p, false, knownColumn(p, kind) || knownColumn(p+".min", kind)
	}
	if c == "type" {
		return "type", false, true
	}
	c = canonColumn(c)
	return c, false, knownColumn(c, kind) || knownColumn(c+".min", kind)
}

// Words spreadsheets use for the codes of the enumerations.
var (
	maturityWords = map[string]medmatch.Maturity{
		"概念": medmatch.MaturityIdea, "创意": medmatch.MaturityIdea, "构思": medmatch.MaturityIdea,
		"原理验证": medmatch.MaturityProofOfConcept, "实验室阶段": medmatch.MaturityProofOfConcept, "小试": medmatch.MaturityProofOfConcept, "实验室研究": medmatch.MaturityProofOfConcept,
		"样机": medmatch.MaturityPrototype, "样品": medmatch.MaturityPrototype, "原型": medmatch.MaturityPrototype, "中试": medmatch.MaturityPrototype, "样机/样品": medmatch.MaturityPrototype,
		"临床前": medmatch.MaturityPreclinical, "临床前研究": medmatch.MaturityPreclinical, "动物实验": medmatch.MaturityPreclinical, "型式检验": medmatch.MaturityPreclinical,
		"临床试验": medmatch.MaturityClinicalTrial, "临床研究": medmatch.MaturityClinicalTrial, "临床": medmatch.MaturityClinicalTrial,
		"注册申报": medmatch.MaturityRegistration, "申报注册": medmatch.MaturityRegistration, "注册中": medmatch.MaturityRegistration,
		"已获证": medmatch.MaturityRegistered, "已获批": medmatch.MaturityRegistered, "取得注册证": medmatch.MaturityRegistered, "已注册": medmatch.MaturityRegistered,
		"已上市": medmatch.MaturityMarketed, "上市": medmatch.MaturityMarketed, "产业化": medmatch.MaturityMarketed, "已量产": medmatch.MaturityMarketed,
	}
	modeWords = map[string]medmatch.TransferMode{
		"许可": medmatch.TransferLicense, "专利许可": medmatch.TransferLicense, "授权许可": medmatch.TransferLicense,
		"转让": medmatch.TransferAssignment, "专利转让": medmatch.TransferAssignment,
		"合作开发": medmatch.TransferCoDevelopment, "联合开发": medmatch.TransferCoDevelopment, "合作": medmatch.TransferCoDevelopment,
		"作价入股": medmatch.TransferEquity, "入股": medmatch.TransferEquity, "作价投资": medmatch.TransferEquity,
	}
	ipTypeWords = map[string]medmatch.IPType{
		"发明专利": medmatch.IPInvention, "发明": medmatch.IPInvention, "实用新型": medmatch.IPUtilityModel, "实用新型专利": medmatch.IPUtilityModel,
		"外观设计": medmatch.IPDesign, "外观设计专利": medmatch.IPDesign, "软件著作权": medmatch.IPSoftwareCopyright, "软著": medmatch.IPSoftwareCopyright,
	}
	ipStatusWords = map[string]medmatch.IPStatus{
		"已授权": medmatch.IPGranted, "授权": medmatch.IPGranted, "有效": medmatch.IPGranted,
		"已申请": medmatch.IPFiled, "申请中": medmatch.IPFiled, "已受理": medmatch.IPFiled, "实审": medmatch.IPFiled, "实质审查": medmatch.IPFiled,
		"无": medmatch.IPNone, "未申请": medmatch.IPNone, "失效": medmatch.IPLapsed, "已失效": medmatch.IPLapsed,
	}
)

// codeSep separates the items of a cell of codes (许可/转让, patent
// numbers): wider than the separators of other lists (convert), since
// codes hold no commas or slashes.
var codeSep = func(r rune) bool {
	return r == ';' || r == '；' || r == '、' || r == '|' || r == ',' || r == '，' || r == '\n' || r == '/'
}

func splitList(v string, sep func(rune) bool) []string {
	var out []string
	for _, x := range strings.FieldsFunc(v, sep) {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// normalize turns a cell of the field at path into its JSON value: codes
// from the words people write, lists from separated text, a price from
// "50-80万", "面议" or "120万元以内". It returns handled false for the
// fields it leaves to convert.
func normalize(path, v string) (any, bool, error) {
	switch path {
	case "maturity", "transfer_modes", "ip.type", "ip.status", "ip.numbers":
		v = strings.TrimSpace(norm.NFKC.String(v)) // full-width letters and digits
	}
	switch path {
	case "maturity":
		if m, ok := maturityWords[v]; ok {
			return string(m), true, nil
		}
	case "transfer_modes":
		var out []string
		for _, w := range splitList(v, codeSep) {
			if m, ok := modeWords[w]; ok {
				out = append(out, string(m))
			} else {
				out = append(out, w)
			}
		}
		return out, true, nil
	case "ip.type":
		if t, ok := ipTypeWords[v]; ok {
			return string(t), true, nil
		}
	case "ip.status":
		if s, ok := ipStatusWords[v]; ok {
			return string(s), true, nil
		}
	case "ip.numbers":
		return splitList(v, func(r rune) bool { return codeSep(r) || r == ' ' }), true, nil
	case "price", "budget":
		p, err := ParsePrice(v)
		if err != nil {
			return nil, true, err
		}
		return p, true, nil
	}
	return nil, false, nil
}

var (
	priceRange = regexp.MustCompile(`^(\d+(?:\.\d+)?)\s*(万|亿)?(?:元)?\s*(?:-|~|～|—|–|至|到)\s*(\d+(?:\.\d+)?)\s*(万|亿)?(?:元)?$`)
	priceOne   = regexp.MustCompile(`^(\d+(?:\.\d+)?)\s*(万|亿)?(?:元)?\s*(以上|以内|以下|起)?$`)
)

// ParsePrice reads a price as offices write it, in 万元: "50-80万",
// "50～80万元", "1.2亿", "100万元以上", "200万以内", "面议", "面议（参考
// 300万）". A bare number is 万元.
func ParsePrice(v string) (map[string]any, error) {
	s := strings.ReplaceAll(norm.NFKC.String(strings.TrimSpace(v)), ",", "")
	out := map[string]any{}
	if strings.Contains(s, "面议") || strings.Contains(s, "议价") {
		out["negotiable"] = true
		s = strings.Trim(strings.NewReplacer("面议", "", "议价", "", "参考", "", "(", "", ")", "", "约", "").Replace(s), " ,;")
		if s == "" {
			return out, nil
		}
	}
	scale := func(n, unit string) (float64, error) {
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return 0, err
		}
		if unit == "亿" {
			f *= 10000
		}
		return f, nil
	}
	if m := priceRange.FindStringSubmatch(s); m != nil {
		u1, u2 := m[2], m[4]
		if u1 == "" {
			u1 = u2
		}
		lo, err1 := scale(m[1], u1)
		hi, err2 := scale(m[3], u2)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%q is not a price", v)
		}
		out["min"], out["max"] = lo, hi
		return out, nil
	}
	if m := priceOne.FindStringSubmatch(s); m != nil {
		n, err := scale(m[1], m[2])
		if err != nil {
			return nil, fmt.Errorf("%q is not a price", v)
		}
		switch m[3] {
		case "以内", "以下":
			out["max"] = n
		case "以上", "起":
			out["min"] = n
		default:
			out["min"], out["max"] = n, n
		}
		return out, nil
	}
	return nil, fmt.Errorf("%q is not a price (write it in 万元 like 50-80万, 120万以内 or 面议)", v)
}

// lookupMapping finds a header in a source's mapping, comparing headers
// as headerField does (case, width, spaces and decorations ignored).
func lookupMapping(m map[string]string, h string) (string, bool) {
	if len(m) == 0 {
		return "", false
	}
	key := func(s string) string {
		return strings.ToLower(headerDecor.Replace(norm.NFKC.String(strings.TrimSpace(s))))
	}
	want := key(h)
	for k, v := range m {
		if key(k) == want {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}
