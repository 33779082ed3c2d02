//! The sandbox's institution directory: what `get_institutions` searches
//! and what `create_order`'s `institution_code` is checked against.
//!
//! Seeded with real universities and student-residence operators (English
//! and Chinese names, countries); the codes are the sandbox's own, since
//! ET's are not public. The list lives in `sandbox.json` under
//! `institutions`, where it can be edited; a file without that key gets
//! the seed list.

use et_model::{CountryCode, GetInstitutions, Institution, InstitutionType};

use crate::codes::{Refusal, SandboxCode};

/// Institutions returned when a search asks for `count` 0.
pub const DEFAULT_PAGE: usize = 20;
/// Most institutions one search returns (a larger `count` is cut to this).
pub const MAX_PAGE: usize = 100;
/// `institution_type` of student residences: the sandbox's own value (ET
/// publishes only the demo's `1`, [`InstitutionType::SCHOOL`]).
pub const RESIDENCE: InstitutionType = InstitutionType(2);

/// The institutions, sorted by code, each with its lower-cased names.
#[derive(Clone, Debug, PartialEq)]
pub struct InstitutionDirectory {
    entries: Vec<(Institution, String)>,
}

impl InstitutionDirectory {
    /// `get_institutions`: the directory searched by key and type.
    pub(crate) fn get_institutions(&self, op: &GetInstitutions) -> Vec<Institution> {
        self.search(&op.search_key, op.institution_type, op.count)
    }

    /// The entry for an order's `institution_code` (none when the code is
    /// absent or empty); `200007` for a code the directory lacks.
    pub(crate) fn for_order(&self, code: Option<&str>) -> Result<Option<&Institution>, Refusal> {
        let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
            return Ok(None);
        };
        self.get(code).map(Some).ok_or_else(|| {
            Refusal::new(
                SandboxCode::UnknownInstitution,
                format!(
                    "invalid `institution_code`: {code:?} is not in the sandbox's institution directory (search it with get_institutions)"
                ),
            )
        })
    }

    /// A directory of `institutions`; `Err` names the first entry without a
    /// code or an English name, or a code used twice.
    pub fn new(mut institutions: Vec<Institution>) -> Result<Self, String> {
        institutions.sort_by(|a, b| a.institution_code.cmp(&b.institution_code));
        for (i, inst) in institutions.iter().enumerate() {
            let code = inst.institution_code.as_str();
            if code.trim().is_empty()
                || inst
                    .institution_name_en
                    .as_deref()
                    .is_none_or(str::is_empty)
            {
                return Err(format!(
                    "institution {code:?} needs an institution_code and an institution_name_en"
                ));
            }
            if i > 0 && institutions[i - 1].institution_code.as_str() == code {
                return Err(format!("institution_code {code:?} is used twice"));
            }
        }
        let entries = institutions
            .into_iter()
            .map(|inst| {
                let names = [
                    Some(inst.institution_code.as_str()),
                    inst.institution_name_en.as_deref(),
                    inst.institution_name_ch.as_deref(),
                ];
                let haystack = names.into_iter().flatten().collect::<Vec<_>>().join("\n");
                let lower = haystack.to_lowercase();
                (inst, lower)
            })
            .collect();
        Ok(InstitutionDirectory { entries })
    }

    /// Every institution, by code.
    pub fn all(&self) -> impl Iterator<Item = &Institution> {
        self.entries.iter().map(|(inst, _)| inst)
    }

    /// The institution with this code.
    pub fn get(&self, code: &str) -> Option<&Institution> {
        let i = self
            .entries
            .binary_search_by(|(inst, _)| inst.institution_code.as_str().cmp(code))
            .ok()?;
        self.entries.get(i).map(|(inst, _)| inst)
    }

    /// Institutions whose code or English or Chinese name contains `key`
    /// (case-insensitive), of `kind` when given, by code; at most `count`
    /// ([`DEFAULT_PAGE`] for 0, never more than [`MAX_PAGE`]).
    pub fn search(&self, key: &str, kind: Option<InstitutionType>, count: u32) -> Vec<Institution> {
        let key = key.trim().to_lowercase();
        let limit = match usize::try_from(count) {
            Ok(0) => DEFAULT_PAGE,
            Ok(n) => n.min(MAX_PAGE),
            Err(_) => MAX_PAGE,
        };
        self.entries
            .iter()
            .filter(|(inst, names)| {
                kind.is_none_or(|k| inst.institution_type == Some(k)) && names.contains(&key)
            })
            .take(limit)
            .map(|(inst, _)| inst.clone())
            .collect()
    }
}

/// The seed list: `(code, English name, Chinese name, country, type)`.
#[rustfmt::skip]
const SEED: &[(&str, &str, &str, &str, i64)] = &[
    ("AUS-ANU", "Australian National University", "澳大利亚国立大学", "AUS", 1),
    ("AUS-MONASH", "Monash University", "莫纳什大学", "AUS", 1),
    ("AUS-SCAPE", "Scape Student Living", "Scape学生公寓", "AUS", 2),
    ("AUS-UNIMELB", "University of Melbourne", "墨尔本大学", "AUS", 1),
    ("AUS-UNSW", "UNSW Sydney", "新南威尔士大学", "AUS", 1),
    ("AUS-UQ", "University of Queensland", "昆士兰大学", "AUS", 1),
    ("AUS-USYD", "University of Sydney", "悉尼大学", "AUS", 1),
    ("CAN-MCGILL", "McGill University", "麦吉尔大学", "CAN", 1),
    ("CAN-UBC", "University of British Columbia", "英属哥伦比亚大学", "CAN", 1),
    ("CAN-UOFT", "University of Toronto", "多伦多大学", "CAN", 1),
    ("CHE-ETH", "ETH Zurich", "苏黎世联邦理工学院", "CHE", 1),
    ("DEU-LMU", "Ludwig Maximilian University of Munich", "慕尼黑大学", "DEU", 1),
    ("DEU-TUM", "Technical University of Munich", "慕尼黑工业大学", "DEU", 1),
    ("FRA-SCPO", "Sciences Po", "巴黎政治学院", "FRA", 1),
    ("FRA-SORBONNE", "Sorbonne University", "索邦大学", "FRA", 1),
    ("GBR-CAMBRIDGE", "University of Cambridge", "剑桥大学", "GBR", 1),
    ("GBR-CHAPTER", "Chapter Living", "Chapter学生公寓", "GBR", 2),
    ("GBR-DURHAM", "Durham University", "杜伦大学", "GBR", 1),
    ("GBR-ED", "University of Edinburgh", "爱丁堡大学", "GBR", 1),
    ("GBR-GLA", "University of Glasgow", "格拉斯哥大学", "GBR", 1),
    ("GBR-ICL", "Imperial College London", "帝国理工学院", "GBR", 1),
    ("GBR-IQ", "iQ Student Accommodation", "iQ学生公寓", "GBR", 2),
    ("GBR-KCL", "King's College London", "伦敦国王学院", "GBR", 1),
    ("GBR-LSE", "London School of Economics and Political Science", "伦敦政治经济学院", "GBR", 1),
    ("GBR-MAN", "University of Manchester", "曼彻斯特大学", "GBR", 1),
    ("GBR-OXFORD", "University of Oxford", "牛津大学", "GBR", 1),
    ("GBR-UCL", "University College London", "伦敦大学学院", "GBR", 1),
    ("GBR-UNITE", "Unite Students", "Unite学生公寓", "GBR", 2),
    ("GBR-URBANEST", "Urbanest", "Urbanest学生公寓", "GBR", 2),
    ("GBR-VITA", "Vita Student", "Vita学生公寓", "GBR", 2),
    ("GBR-WARWICK", "University of Warwick", "华威大学", "GBR", 1),
    ("HKG-CUHK", "The Chinese University of Hong Kong", "香港中文大学", "HKG", 1),
    ("HKG-HKU", "The University of Hong Kong", "香港大学", "HKG", 1),
    ("HKG-HKUST", "The Hong Kong University of Science and Technology", "香港科技大学", "HKG", 1),
    ("IRL-TCD", "Trinity College Dublin", "都柏林圣三一大学", "IRL", 1),
    ("JPN-KYOTO", "Kyoto University", "京都大学", "JPN", 1),
    ("JPN-UTOKYO", "The University of Tokyo", "东京大学", "JPN", 1),
    ("KOR-SNU", "Seoul National University", "首尔大学", "KOR", 1),
    ("NLD-SOCIALHUB", "The Social Hub", "The Social Hub学生公寓", "NLD", 2),
    ("NLD-TUDELFT", "Delft University of Technology", "代尔夫特理工大学", "NLD", 1),
    ("NLD-UVA", "University of Amsterdam", "阿姆斯特丹大学", "NLD", 1),
    ("NZL-UOA", "University of Auckland", "奥克兰大学", "NZL", 1),
    ("SGP-NTU", "Nanyang Technological University", "南洋理工大学", "SGP", 1),
    ("SGP-NUS", "National University of Singapore", "新加坡国立大学", "SGP", 1),
    ("USA-ACC", "American Campus Communities", "American Campus Communities学生公寓", "USA", 2),
    ("USA-CMU", "Carnegie Mellon University", "卡内基梅隆大学", "USA", 1),
    ("USA-COLUMBIA", "Columbia University", "哥伦比亚大学", "USA", 1),
    ("USA-HARVARD", "Harvard University", "哈佛大学", "USA", 1),
    ("USA-MIT", "Massachusetts Institute of Technology", "麻省理工学院", "USA", 1),
    ("USA-NYU", "New York University", "纽约大学", "USA", 1),
    ("USA-STANFORD", "Stanford University", "斯坦福大学", "USA", 1),
    ("USA-UCB", "University of California, Berkeley", "加州大学伯克利分校", "USA", 1),
    ("USA-UCLA", "University of California, Los Angeles", "加州大学洛杉矶分校", "USA", 1),
    ("USA-USC", "University of Southern California", "南加州大学", "USA", 1),
];

/// The seed list as institutions.
pub(crate) fn seed() -> Vec<Institution> {
    SEED.iter()
        .map(|&(code, en, ch, country, kind)| Institution {
            institution_code: code.into(),
            institution_name_en: Some(en.to_owned()),
            institution_name_ch: Some(ch.to_owned()),
            country_code: Some(CountryCode::from_code(country)),
            institution_type: Some(InstitutionType(kind)),
            extra: Default::default(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> InstitutionDirectory {
        InstitutionDirectory::new(seed()).expect("the seed list is valid")
    }

    fn codes(found: &[Institution]) -> Vec<&str> {
        found.iter().map(|i| i.institution_code.as_str()).collect()
    }

    #[test]
    fn search_is_case_insensitive_in_either_language_and_by_type() {
        let d = directory();
        let school = Some(InstitutionType::SCHOOL);
        assert_eq!(codes(&d.search("OXFORD", school, 0)), ["GBR-OXFORD"]);
        assert_eq!(codes(&d.search("牛津", school, 0)), ["GBR-OXFORD"]);
        assert_eq!(codes(&d.search("多伦多", None, 0)), ["CAN-UOFT"]);
        assert_eq!(codes(&d.search("unsw", school, 0)), ["AUS-UNSW"]);
        assert!(d.search("student", school, 0).is_empty());
        assert_eq!(d.search("Student", Some(RESIDENCE), 0).len(), 4);
        let residences = d.search("", Some(RESIDENCE), 0);
        assert!(
            residences.len() >= 5
                && residences
                    .iter()
                    .all(|i| i.institution_type == Some(RESIDENCE))
        );
        assert!(d.search("no such place", None, 0).is_empty());
    }

    #[test]
    fn pages_are_bounded_and_in_code_order() {
        let d = directory();
        assert!(d.all().count() >= 50, "several dozen institutions");
        let page = d.search("", None, 0);
        assert_eq!(page.len(), DEFAULT_PAGE);
        assert!(page
            .windows(2)
            .all(|w| w[0].institution_code < w[1].institution_code));
        assert_eq!(d.search("", None, 3).len(), 3);
        assert_eq!(
            d.search("", None, u32::MAX).len(),
            d.all().count().min(MAX_PAGE)
        );
        assert_eq!(
            d.search("university", None, 5),
            d.search("university", None, 5)
        );
    }

    #[test]
    fn bad_directories_are_refused() {
        let mut twice = seed();
        twice.push(twice[0].clone());
        assert!(InstitutionDirectory::new(twice)
            .unwrap_err()
            .contains("twice"));
        let mut nameless = seed();
        nameless[3].institution_name_en = None;
        assert!(InstitutionDirectory::new(nameless).is_err());
        assert_eq!(
            directory()
                .get("GBR-OXFORD")
                .and_then(|i| i.institution_name_ch.as_deref()),
            Some("牛津大学")
        );
        assert!(directory().get("GBR-NOWHERE").is_none());
    }
}
