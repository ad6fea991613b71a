package api

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/matcher"
)

// Chinese labels of the codes the pages show. The JSON API keeps the
// codes; only the pages translate them.
var labels = map[string]map[string]string{
	"maturity": {
		string(medmatch.MaturityIdea): "概念", string(medmatch.MaturityProofOfConcept): "原理验证",
		string(medmatch.MaturityPrototype): "样机/样品", string(medmatch.MaturityPreclinical): "临床前",
		string(medmatch.MaturityClinicalTrial): "临床试验", string(medmatch.MaturityRegistration): "注册申报",
		string(medmatch.MaturityRegistered): "已获证", string(medmatch.MaturityMarketed): "已上市",
	},
	"transfer_modes": {
		string(medmatch.TransferLicense): "许可", string(medmatch.TransferAssignment): "转让",
		string(medmatch.TransferCoDevelopment): "合作开发", string(medmatch.TransferEquity): "作价入股",
	},
	"ip_type": {
		string(medmatch.IPInvention): "发明专利", string(medmatch.IPUtilityModel): "实用新型",
		string(medmatch.IPDesign): "外观设计", string(medmatch.IPSoftwareCopyright): "软件著作权",
	},
	"ip_status": {
		string(medmatch.IPNone): "无知识产权", string(medmatch.IPFiled): "已申请",
		string(medmatch.IPGranted): "已授权", string(medmatch.IPLapsed): "已失效",
	},
	"status": {
		string(medmatch.StatusDraft): "草稿", string(medmatch.StatusSubmitted): "待审核",
		string(medmatch.StatusChangesRequested): "退回修改", string(medmatch.StatusPublished): "已发布",
		string(medmatch.StatusWithdrawn): "已撤回", string(medmatch.StatusTransferred): "已转化",
		string(medmatch.DemandOpen): "征集中", string(medmatch.DemandClosed): "已关闭",
	},
	"price_band": {
		indexer.BandNegotiable: "面议", indexer.BandUnder50: "50万元以下", indexer.Band50to200: "50–200万元",
		indexer.Band200to500: "200–500万元", indexer.Band500to1000: "500–1000万元", indexer.BandOver1000: "1000万元以上",
	},
	"updated": {"7d": "近7天", "30d": "近30天", "90d": "近90天", "365d": "近一年"},
	"type": {
		string(medmatch.KindAchievement): "科技成果", string(medmatch.KindNeed): "临床需求",
		string(medmatch.KindTeam): "团队", string(medmatch.KindEnterprise): "企业", string(medmatch.KindDemand): "企业需求",
	},
	"facet": {
		"type": "类型", "specialty": "专科", "fields": "技术领域", "maturity": "成熟度", "transfer_modes": "转化方式",
		"region": "地区", "institution": "机构", "ip_type": "知识产权类型", "ip_status": "知识产权状态",
		"status": "状态", "price_band": "价格", "updated": "更新时间",
	},
	"feature": {
		matcher.FText: "文本相关", matcher.FSemantic: "语义相近", matcher.FSpecialty: "专科一致",
		matcher.FFields: "领域重合", matcher.FMaturity: "成熟度匹配", matcher.FMode: "转化方式匹配",
		matcher.FBudget: "预算匹配", matcher.FRegion: "同一地区", matcher.FRecency: "近期更新",
	},
	"criterion": {
		medmatch.CriterionClinicalValue: "临床价值", medmatch.CriterionMaturity: "成熟度",
		medmatch.CriterionIP: "知识产权", medmatch.CriterionTeam: "团队", medmatch.CriterionPriceFit: "价格匹配",
	},
	"request": {
		medmatch.RequestPending: "待确认", medmatch.RequestAccepted: "已接受",
		medmatch.RequestRejected: "已拒绝", medmatch.RequestExpired: "已过期",
	},
	"event": {medmatch.EventDraft: "筹备中", medmatch.EventPublished: "已发布", medmatch.EventClosed: "已结束"},
	"role": {
		string(medmatch.RoleAdmin): "管理员", string(medmatch.RoleOrganizer): "组织者",
		string(medmatch.RoleInstitution): "机构用户", string(medmatch.RoleEnterprise): "企业用户", string(medmatch.RoleReader): "只读",
	},
	"size": {"micro": "微型", "small": "小型", "medium": "中型", "large": "大型"},
	"basis": {
		string(medmatch.BasisService): "职务成果", string(medmatch.BasisEmpowerment): "赋权改革", string(medmatch.BasisNonService): "非职务成果",
	},
	"valuation": {
		string(medmatch.ValuationCost): "成本法", string(medmatch.ValuationMarket): "市场法",
		string(medmatch.ValuationIncome): "收益法", string(medmatch.ValuationExpert): "专家评议",
	},
	"sort": {indexer.SortRelevance: "相关度", indexer.SortNewest: "最新", indexer.SortPrice: "价格从低到高", indexer.SortPriceDesc: "价格从高到低"},
}

// label returns the Chinese label of a code in group, or the code itself.
func label(group string, code any) string {
	s := fmt.Sprint(code)
	if l, ok := labels[group][s]; ok {
		return l
	}
	return s
}

// The planner and the scheduler explain themselves in English (the JSON
// API's language); the pages show these sentences in Chinese.
var reasonPatterns = []struct {
	re  *regexp.Regexp
	out func(m []string) string
}{
	{regexp.MustCompile(`^terms: (.+)$`), func(m []string) string { return "共同关键词：" + m[1] }},
	{regexp.MustCompile(`^([a-z_]+) ([0-9.]+)$`), func(m []string) string { return label("feature", m[1]) + " " + m[2] }},
	{regexp.MustCompile(`^requested by the enterprise$`), func([]string) string { return "企业主动申请" }},
	{regexp.MustCompile(`^the enterprise's quota of (\d+) meetings is reached$`), func(m []string) string { return "企业已达 " + m[1] + " 场洽谈上限" }},
	{regexp.MustCompile(`^no slot where both the enterprise and the project team are available$`), func([]string) string { return "企业与项目团队没有共同的空闲时段" }},
	{regexp.MustCompile(`^every common slot is taken \((.*)\)$`), func(m []string) string { return "共同时段均已占满（" + translateSlots(m[1]) + "）" }},
	{regexp.MustCompile(`^its slot was removed$`), func([]string) string { return "所在时段已删除" }},
	{regexp.MustCompile(`^its table was removed$`), func([]string) string { return "所在桌位已删除" }},
	{regexp.MustCompile(`^the project is no longer presented$`), func([]string) string { return "项目不再参加推介" }},
	{regexp.MustCompile(`^the enterprise is no longer invited$`), func([]string) string { return "企业不再受邀" }},
	{regexp.MustCompile(`^no longer recommended$`), func([]string) string { return "不再推荐" }},
	{regexp.MustCompile(`^no other place$`), func([]string) string { return "无其他位置" }},
	{regexp.MustCompile(`^status is (\S+), not published$`), func(m []string) string { return "状态为" + label("status", m[1]) + "，未发布" }},
	{regexp.MustCompile(`^maturity (\S+) is below (\S+)$`), func(m []string) string {
		return "成熟度" + label("maturity", m[1]) + "低于" + label("maturity", m[2])
	}},
	{regexp.MustCompile(`^IP status (\S+) is not one of \[(.*)\]$`), func(m []string) string {
		var ls []string
		for _, s := range strings.Fields(m[1+1]) {
			ls = append(ls, label("ip_status", s))
		}
		return "知识产权状态" + label("ip_status", m[1]) + "不在" + strings.Join(ls, "、") + "之列"
	}},
}

var slotPart = regexp.MustCompile(`slot (\d+): (the enterprise has another meeting|the project team has another meeting|all (\d+) tables taken)`)

func translateSlots(s string) string {
	s = strings.ReplaceAll(s, "; ", "；")
	return slotPart.ReplaceAllStringFunc(s, func(p string) string {
		m := slotPart.FindStringSubmatch(p)
		switch {
		case strings.HasPrefix(m[2], "the enterprise"):
			return "第" + m[1] + "时段企业另有洽谈"
		case strings.HasPrefix(m[2], "the project"):
			return "第" + m[1] + "时段项目团队另有洽谈"
		}
		return "第" + m[1] + "时段 " + m[3] + " 张桌位已满"
	})
}

// reasonZH translates one planner sentence ("; "-joined parts, split
// outside parentheses).
func reasonZH(s string) string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ';':
			if depth == 0 && strings.HasPrefix(s[i:], "; ") {
				parts = append(parts, s[start:i])
				start = i + 2
			}
		}
	}
	parts = append(parts, s[start:])
	for i, p := range parts {
		for _, rp := range reasonPatterns {
			if m := rp.re.FindStringSubmatch(p); m != nil {
				parts[i] = rp.out(m)
				break
			}
		}
	}
	return strings.Join(parts, "；")
}
