"""Translation glossary: the names the machine translation (MT) got wrong, both ways.

The plan exists here only as a Korean MT, which renders names literally: DOE became
암사슴 ("female deer"), LIFT became 승강기 ("elevator"), REMADE became 리메이크. Retrieval
must see through this in both directions (an English question names "LIFT", the text says
승강기; a Korean question says 에너지부, the text says 암사슴), and answers must show the
real English names. Every institute and agency is an `Entity` with its canonical English
name, its acronyms and all its Korean forms (correct Korean and MT artifacts).

Some artifacts are ordinary Korean words elsewhere (의사 "doctor" = DOC, 빠른 "fast" = RAPID,
준 = June): they are `table_only` and applied only when parsing Table 1 / Figure 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

EntityKind = Literal["institute", "agency", "office", "program", "law", "organization", "term"]


@dataclass(frozen=True)
class Entity:
    key: str  # canonical short English name, e.g. "LIFT", "DOE"
    kind: EntityKind
    name_en: str  # full English name
    aliases_en: tuple[str, ...] = ()
    ko: tuple[str, ...] = ()  # Korean forms found in (or natural for) the text
    mt_artifacts: tuple[str, ...] = ()  # wrong MT renderings, rewritten for display
    table_only: tuple[str, ...] = ()  # artifacts that only hold inside Table 1 / Figure 1
    sponsor: str | None = None  # institutes: sponsoring agency key


@dataclass(frozen=True)
class InstituteFacts:
    """Curated English values of Table 1 (the official plan's row), keyed by entity."""

    key: str
    focus_en: str
    hq_en: str


# fmt: off
ENTITIES: tuple[Entity, ...] = (
    # ---- the 17 institutes (Table 1) -------------------------------------------------
    Entity("America Makes", "institute", "America Makes (National Additive Manufacturing Innovation Institute)",
           ("National Additive Manufacturing Innovation Institute", "NAMII"),
           ("미국이 만든다", "미국 제작", "내셔널 첨가제 제조혁신연구소", "아메리카 메이크스"),
           ("미국이 만든다", "미국 제작"), sponsor="DoD"),
    Entity("MxD", "institute", "MxD (Manufacturing times Digital)",
           ("Manufacturing times Digital", "Manufacturing x Digital"),
           ("매뉴팩처링 타임즈 디지털", "엠엑스디"), sponsor="DoD"),
    Entity("LIFT", "institute", "LIFT (Lightweight Innovations for Tomorrow)",
           ("Lightweight Innovations for Tomorrow",),
           ("승강기", "내일을 위한 경량 혁신", "리프트"), ("승강기",), sponsor="DoD"),
    Entity("PowerAmerica", "institute",
           "PowerAmerica (Next Generation Power Electronics Manufacturing Innovation Institute)",
           ("Power America", "Next Generation Power Electronics Manufacturing Innovation Institute"),
           ("파워아메리카", "파워 아메리카", "차세대 전력전자 제조혁신연구소"), sponsor="DOE"),
    Entity("IACMI", "institute", "IACMI (Institute for Advanced Composites Manufacturing Innovation)",
           ("Institute for Advanced Composites Manufacturing Innovation", "The Composites Institute"),
           ("첨단 복합재료 제조 혁신 연구소", "첨단 복합재 제조 혁신 연구소", "첨단복합재료 제조혁신연구소"),
           sponsor="DOE"),
    Entity("AIM Photonics", "institute",
           "AIM Photonics (American Institute for Manufacturing Integrated Photonics)",
           ("American Institute for Manufacturing Integrated Photonics", "AIM"),
           ("AIM 포토닉스", "에임 포토닉스", "미국 연구소 제조 통합 포토닉스"), sponsor="DoD"),
    Entity("NextFlex", "institute", "NextFlex (America's Flexible Hybrid Electronics Manufacturing Institute)",
           ("Next Flex", "America's Flexible Hybrid Electronics Manufacturing Institute"),
           ("넥스트플렉스", "넥스트 플렉스", "미국의 유연한 하이브리드 전자 제조 연구소"), sponsor="DoD"),
    Entity("AFFOA", "institute", "AFFOA (Advanced Functional Fabrics of America)",
           ("Advanced Functional Fabrics of America",),
           ("AFFA", "미국 연구소의 고급 기능성 직물", "아포아"), ("AFFA",), sponsor="DoD"),
    Entity("CESMII", "institute", "CESMII (Clean Energy Smart Manufacturing Innovation Institute)",
           ("Clean Energy Smart Manufacturing Innovation Institute", "CESMII - The Smart Manufacturing Institute"),
           ("청정에너지 스마트제조혁신연구소", "청정 에너지 스마트 제조 혁신 연구소", "세스미"), sponsor="DOE"),
    Entity("ARMI|BioFabUSA", "institute",
           "ARMI|BioFabUSA (Advanced Regenerative Manufacturing Institute)",
           ("ARMI", "BioFabUSA", "BioFab USA", "Advanced Regenerative Manufacturing Institute"),
           ("무기|BioFabUSA", "고급 재생 제조연구소", "첨단 재생 제조 연구소", "바이오팹USA"),
           ("무기|BioFabUSA",), sponsor="DoD"),
    Entity("ARM Institute", "institute", "ARM Institute (Advanced Robotics for Manufacturing Institute)",
           ("Advanced Robotics for Manufacturing", "ARM"),
           ("ARM 연구소", "첨단 로봇공학 제조연구소", "제조 연구소를 위한 첨단 로봇 공학"), sponsor="DoD"),
    Entity("NIIMBL", "institute",
           "NIIMBL (National Institute for Innovation in Manufacturing Biopharmaceuticals)",
           ("National Institute for Innovation in Manufacturing Biopharmaceuticals",),
           ("국립 바이오의약품 제조 혁신 연구소", "님블"), sponsor="DOC"),
    Entity("RAPID", "institute",
           "RAPID (Rapid Advancement in Process Intensification Deployment Institute)",
           ("Rapid Advancement in Process Intensification Deployment",),
           ("프로세스 집약화 구축의 급속한 발전 학회", "프로세스 집약화 구축의 급속한 발전", "신속한 발전 프로세스 강화 배포 연구소", "래피드"),
           table_only=("빠른",), sponsor="DOE"),
    Entity("REMADE", "institute", "REMADE (Reducing Embodied Energy and Decreasing Emissions Institute)",
           ("Reducing Embodied Energy and Decreasing Emissions",),
           ("리메이크", "내재에너지 감소 및 배출 감소", "내재 에너지 감소 및 배출 감소", "리메이드"),
           ("리메이크",), sponsor="DOE"),
    Entity("CyManII", "institute", "CyManII (Cybersecurity Manufacturing Innovation Institute)",
           ("Cybersecurity Manufacturing Innovation Institute", "CyMan II"),
           ("사이맨 2", "사이맨2", "사이버보안 제조혁신연구소", "사이버 보안 제조 혁신 연구소"),
           ("사이맨 2",), sponsor="DOE"),
    Entity("BioMADE", "institute", "BioMADE (Bioindustrial Manufacturing and Design Ecosystem)",
           ("Bioindustrial Manufacturing and Design Ecosystem", "Bio MADE"),
           ("바이오메이드", "생물산업 제조 및 디자인 생태계", "생물산업 제조 및 설계 생태계"), sponsor="DoD"),
    Entity("EPIXC", "institute", "EPIXC (Electrified Processes for Industry without Carbon)",
           ("Electrified Processes for Industry without Carbon",),
           ("탄소 없는 산업을 위한 전기화 공정", "엡식"), sponsor="DOE"),
    # ---- the 9 federal partner agencies ------------------------------------------------
    Entity("DOC", "agency", "Department of Commerce", ("U.S. Department of Commerce", "Commerce"),
           ("상무부", "미국 상무부", "상학과"), ("상학과",), table_only=("의사",)),
    Entity("DoD", "agency", "Department of Defense", ("DOD", "U.S. Department of Defense", "Pentagon"),
           ("국방부", "미국 국방부")),
    Entity("DOE", "agency", "Department of Energy", ("U.S. Department of Energy", "Energy Department"),
           ("에너지부", "미국 에너지부", "에너지학과", "암사슴"), ("암사슴", "에너지학과")),
    Entity("DOL", "agency", "Department of Labor", ("U.S. Department of Labor", "Labor Department"),
           ("노동부", "미국 노동부")),
    Entity("ED", "agency", "Department of Education", ("U.S. Department of Education", "Education Department"),
           ("교육부", "미국 교육부", "교육학과", "교육과"), ("교육학과", "교육과")),
    Entity("HHS", "agency", "Department of Health and Human Services",
           ("HHS/FDA", "U.S. Department of Health and Human Services"),
           ("보건복지부", "보건 복지부", "미국 보건복지부")),
    Entity("NASA", "agency", "National Aeronautics and Space Administration", (),
           ("항공우주국", "미국 항공우주국", "나사")),
    Entity("NSF", "agency", "National Science Foundation", ("U.S. National Science Foundation",),
           ("국립과학재단", "미국 국립과학재단", "국립 과학 재단")),
    Entity("USDA", "agency", "U.S. Department of Agriculture", ("Department of Agriculture",),
           ("농무부", "미국 농무부", "농업부")),
    # ---- offices, programs, laws, organizations ---------------------------------------
    Entity("FDA", "agency", "Food and Drug Administration", (), ("식품의약국", "식품의약청", "식품의약품청")),
    Entity("NIST", "agency", "National Institute of Standards and Technology", (),
           ("국립표준기술연구소", "국립표준기술원", "국립 표준 기술 연구소", "국립 표준 기술원", "미국 국립표준기술연구소")),
    Entity("AMNPO", "office", "Advanced Manufacturing National Program Office", (),
           ("첨단 제조 국가 프로그램 사무국", "첨단제조 국가프로그램 사무국")),
    Entity("Manufacturing USA", "program", "Manufacturing USA Program",
           ("Manufacturing USA Network", "Manufacturing USA institutes", "National Network for Manufacturing Innovation", "NNMI"),
           ("미국 제조", "제조 미국", "미국 제조업", "매뉴팩처링 USA", "Manufacturing USA"),
           # "미국 제조" is also plain "U.S. manufacturing": only the inverted form is rewritten.
           ("제조 미국",)),
    Entity("Manufacturing USA Council", "organization", "Manufacturing USA Council",
           ("Council of Manufacturing USA Institute Directors",),
           ("미국 제조 협의회", "미국 제조업 협의회", "미국 제조 협회 이사 위원회", "Manufacturing USA 협회"),
           ("Manufacturing USA 협회",)),
    Entity("MEP", "program", "Hollings Manufacturing Extension Partnership",
           ("Manufacturing Extension Partnership", "MEP National Network"),
           ("제조 확장 프로그램", "제조 확장 파트너십", "MEP 센터", "MEP 국가 네트워크")),
    Entity("OAM", "office", "Office of Advanced Manufacturing (NIST)", (), ("첨단 제조 사무국", "첨단제조실")),
    Entity("EERE", "office", "Office of Energy Efficiency and Renewable Energy (DOE)", (),
           ("에너지 효율 및 재생 에너지 사무국",)),
    Entity("ManTech", "program", "DoD Manufacturing Technology Program", ("Manufacturing Technology Program",),
           ("제조 기술 프로그램", "제조기술국")),
    Entity("GAO", "agency", "Government Accountability Office", ("U.S. Government Accountability Office",),
           ("회계감사원", "정부회계감사원", "감사원")),
    Entity("DARPA", "agency", "Defense Advanced Research Projects Agency", (), ("방위고등연구계획국", "국방고등연구계획국")),
    Entity("BARDA", "agency", "Biomedical Advanced Research and Development Authority", (),
           ("생물의학 첨단 연구 개발 기관", "생물의학 첨단 연구개발청")),
    Entity("NIOSH", "agency", "National Institute for Occupational Safety and Health", (), ("국립산업안전연구소",)),
    Entity("ETA", "office", "Employment and Training Administration (DOL)", (), ("고용훈련청", "고용 및 훈련 관리국")),
    Entity("STMD", "office", "Space Technology Mission Directorate (NASA)", (), ("우주 기술 임무국",)),
    Entity("EDA", "agency", "Economic Development Administration", (), ("경제 개발청",)),
    Entity("White House", "office", "The White House", (), ("백악관",)),
    Entity("CHIPS and Science Act", "law", "CHIPS and Science Act of 2022", ("CHIPS Act",),
           ("CHIPS 및 과학법", "CHIPS 법", "반도체과학법")),
    Entity("RAMI Act", "law", "Revitalize American Manufacturing and Innovation Act of 2014",
           ("Revitalize American Manufacturing and Innovation Act",),
           ("미국 제조 및 혁신법", "미국 제조 혁신법", "미국 제조 및 혁신 활성화법")),
    Entity("CARES Act", "law", "Coronavirus Aid, Relief, and Economic Security Act", (),
           ("CARES법", "CARES 법")),
    Entity("ARP Act", "law", "American Rescue Plan Act of 2021", ("American Rescue Plan", "ARP"),
           ("미국 구조 계획", "미국 구조 계획법", "미국 구조법")),
    Entity("Fraunhofer", "organization", "Fraunhofer-Gesellschaft", ("Fraunhofer Society",),
           ("프라운호퍼", "프라운호퍼 학회")),
    Entity("Made in China 2025", "program", "Made in China 2025", ("MIC 2025",),
           ("중국제조 2025", "메이드 인 차이나 2025")),
    Entity("MIC", "program", "Manufacturing Innovation Centers (China)", ("Manufacturing Innovation Center",),
           ("제조 혁신 센터",)),
    Entity("TRL", "term", "Technology Readiness Level", ("technology readiness",), ("기술 준비 수준",)),
    Entity("MRL", "term", "Manufacturing Readiness Level", ("manufacturing readiness",), ("제조 준비 수준",)),
    Entity("SMM", "term", "small and medium-sized manufacturers",
           ("small manufacturers", "small and medium manufacturers", "SMEs"), ("중소 제조업체", "중소기업", "중소형 제조")),
    Entity("EWD", "term", "Education and Workforce Development", ("workforce development",),
           ("교육 및 인력 개발", "교육인력개발")),
    Entity("OTA", "term", "Other Transaction Authority", ("other transactions",), ("기타 거래 기관", "기타 거래")),
    Entity("National Strategy for Advanced Manufacturing", "program",
           "National Strategy for Advanced Manufacturing (2022)", ("National Strategy",),
           ("첨단 제조를 위한 국가 전략", "첨단제조를 위한 국가전략")),
    Entity("Digital twin institute", "program", "CHIPS Manufacturing USA institute for digital twins for semiconductors",
           ("digital twin", "digital twins"), ("디지털 트윈",)),
)

INSTITUTE_FACTS: tuple[InstituteFacts, ...] = (
    InstituteFacts("America Makes", "Additive manufacturing", "Youngstown, Ohio"),
    InstituteFacts("MxD", "Digital manufacturing and design / cybersecurity in manufacturing", "Chicago, Illinois"),
    InstituteFacts("LIFT", "Lightweight materials manufacturing", "Detroit, Michigan"),
    InstituteFacts("PowerAmerica", "Wide bandgap power electronics manufacturing", "Raleigh, North Carolina"),
    InstituteFacts("IACMI", "Fiber-reinforced polymer composites manufacturing", "Knoxville, Tennessee"),
    InstituteFacts("AIM Photonics", "Integrated photonics manufacturing", "Rochester, New York and Albany, New York"),
    InstituteFacts("NextFlex", "Thin, flexible electronic devices and sensors manufacturing", "San Jose, California"),
    InstituteFacts("AFFOA", "Sophisticated, integrated, and networked fibers, yarns, and fabrics manufacturing",
                   "Cambridge, Massachusetts"),
    InstituteFacts("CESMII", "Smart manufacturing, sensing, controls, modeling, analytics, and platform technologies",
                   "Los Angeles, California"),
    InstituteFacts("ARMI|BioFabUSA", "Engineered tissue and tissue-related manufacturing", "Manchester, New Hampshire"),
    InstituteFacts("ARM Institute", "Transformative artificial intelligence and robotics manufacturing technologies",
                   "Pittsburgh, Pennsylvania"),
    InstituteFacts("NIIMBL", "Biopharmaceutical manufacturing", "Newark, Delaware"),
    InstituteFacts("RAPID", "Modular chemical process intensification for manufacturing", "New York, New York"),
    InstituteFacts("REMADE", "Sustainable manufacturing", "Rochester, New York"),
    InstituteFacts("CyManII", "Cybersecurity and energy-efficient manufacturing", "San Antonio, Texas"),
    InstituteFacts("BioMADE", "Sustainable and reliable bioindustrial manufacturing technologies", "St. Paul, Minnesota"),
    InstituteFacts("EPIXC", "Electric process heating", "Tempe, Arizona"),
)

# Places of Table 1 (Korean MT -> English).
PLACES_KO_EN: dict[str, str] = {
    "영스타운": "Youngstown", "오하이오주": "Ohio", "오하이오": "Ohio", "시카고": "Chicago", "일리노이": "Illinois",
    "디트로이트": "Detroit", "미시간주": "Michigan", "미시간": "Michigan", "롤리": "Raleigh",
    "노스캐롤라이나주": "North Carolina", "녹스빌": "Knoxville", "테네시": "Tennessee", "로체스터": "Rochester",
    "올버니": "Albany", "뉴욕": "New York", "산호세": "San Jose", "캘리포니아주": "California",
    "케임브리지": "Cambridge", "매사추세츠주": "Massachusetts", "로스앤젤레스": "Los Angeles",
    "맨체스터": "Manchester", "뉴햄프셔": "New Hampshire", "피츠버그": "Pittsburgh",
    "펜실베이니아주": "Pennsylvania", "뉴어크": "Newark", "델라웨어": "Delaware", "샌안토니오": "San Antonio",
    "텍사스": "Texas", "세인트폴": "St. Paul", "미네소타주": "Minnesota", "템피": "Tempe", "애리조나주": "Arizona",
}

# Countries the plan names besides the United States (its benchmarking study, Fraunhofer,
# Made in China 2025). A question about one of them is answered only from text naming it.
COUNTRIES_KO_EN: dict[str, str] = {
    "호주": "Australia", "벨기에": "Belgium", "브라질": "Brazil", "캐나다": "Canada", "중국": "China",
    "프랑스": "France", "독일": "Germany", "일본": "Japan", "싱가포르": "Singapore", "대만": "Taiwan",
    "영국": "United Kingdom", "한국": "Korea", "대한민국": "Korea", "이탈리아": "Italy",
}
_COUNTRY_EN_ALIASES: dict[str, str] = {"South Korea": "Korea", "Republic of Korea": "Korea", "UK": "United Kingdom",
                                       "Britain": "United Kingdom"}

# Months as the MT printed them in Table 1 ("준" is June; the rest are regular).
MONTHS_KO: dict[str, int] = {**{f"{m}월": m for m in range(1, 13)}, "준": 6}
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")

# Table-1 agency cells as printed -> agency key.
TABLE_AGENCIES_KO: dict[str, str] = {"국방부": "DoD", "암사슴": "DOE", "의사": "DOC"}

# Ordinary words the MT got wrong, rewritten in text shown to the LLM (조작 "manipulation"
# is always "manufacturing" in this document; 연수회 "training session" is "institute").
WORD_ARTIFACTS_KO: dict[str, str] = {"조작": "제조", "연수회": "연구소"}

# Domain vocabulary: English question words -> the Korean words the MT uses for them.
# Lets BM25 match an English question against Korean text (an English query otherwise
# shares almost no tokens with it).
TERMS_EN_KO: tuple[tuple[str, str], ...] = (
    (r"headquarter\w*|located|location|based in|where is", "본사 위치"),
    (r"found(?:ed|ing)?|establish\w*|launched|created|set up|opened", "설립"),
    (r"sponsor\w*", "후원 대행사"),
    (r"agenc(?:y|ies)|department", "기관 부서"),
    (r"focus\w*|technology area|technical area", "기술 중점 영역 초점"),
    (r"member\w*", "회원 멤버십"),
    (r"fund\w*|financ\w*", "자금 기금 지원"),
    (r"budget\w*|appropriat\w*", "예산"),
    (r"grant\w*", "보조금"),
    (r"invest\w*", "투자"),
    (r"workforce|worker\w*|employee\w*", "인력 근로자"),
    (r"educat\w*|train\w*|curricul\w*|course\w*", "교육 훈련 과정"),
    (r"goal\w*", "목표"),
    (r"objective\w*", "목표 목적"),
    (r"vision", "비전"),
    (r"mission", "사명 임무"),
    (r"council", "협의회 위원회"),
    (r"evaluat\w*|assess\w*|review\w*", "평가 검토"),
    (r"metric\w*|measure\w*|indicator\w*", "지표 측정항목 측정"),
    (r"report\w*", "보고서 보고"),
    (r"congress\w*", "의회"),
    (r"annual\w*|yearly|every year", "연례 매년"),
    (r"benchmark\w*", "벤치마킹"),
    (r"china|chinese", "중국"),
    (r"german\w*", "독일"),
    (r"institute\w*", "연구소"),
    (r"network\w*", "네트워크"),
    (r"supply chain\w*", "공급망"),
    (r"small and medium\w*|small manufacturer\w*|smm\w*", "중소 제조업체"),
    (r"apprentice\w*", "견습"),
    (r"credential\w*", "자격 증명"),
    (r"certif\w*", "인증"),
    (r"cyber\w*", "사이버 보안"),
    (r"semiconductor\w*|chip\w*", "반도체"),
    (r"digital twin\w*", "디지털 트윈"),
    (r"artificial intelligence|\bai\b", "인공지능 인공 지능"),
    (r"robot\w*", "로봇"),
    (r"pandemic|covid\w*|coronavirus", "코로나19 팬데믹"),
    (r"patent\w*", "특허"),
    (r"revenue\w*|income", "수익"),
    (r"private", "민간"),
    (r"public.private|partnership\w*", "민관 파트너십"),
    (r"strategic plan\w*|strategy", "전략 계획"),
    (r"summit", "서밋 정상회담"),
    (r"pilot\w*", "파일럿 시범"),
    (r"project\w*", "프로젝트"),
    (r"student\w*", "학생"),
    (r"teacher\w*|educator\w*", "교사 교육자"),
    (r"decarboni\w*|carbon|emission\w*", "탈탄소화 탄소 배출"),
    (r"energy", "에너지"),
    (r"wind", "풍력"),
    (r"blade\w*", "블레이드"),
    (r"throughput", "처리량"),
    (r"humvee\w*|hmmwv", "HMMWV 차량 개조"),
    (r"contract\w*", "계약"),
    (r"renew\w*", "갱신"),
    (r"recogni\w*|award\w*", "표창 수상"),
    (r"event\w*", "이벤트 행사"),
    (r"historically black|hbcu\w*|tribal|minority", "흑인 대학 부족 소수민족"),
    (r"underserved|underrepresented|diverse|diversity", "소외된 대표성 다양한"),
    (r"roadmap\w*", "로드맵"),
    (r"testbed\w*|facilit\w*", "테스트베드 시설"),
    (r"prototyp\w*", "프로토타입"),
    (r"commerciali\w*", "상용화 사업화"),
    (r"transition\w*", "전환"),
    (r"cost.shar\w*|match\w*", "비용 공유 일치"),
    (r"state\w*", "주"),
    (r"manufacturing day", "제조의 날"),
    (r"emmy\w*|documentar\w*|video", "Emmy 다큐멘터리 비디오"),
    (r"acronym\w*|abbreviation\w*", "약어"),
    (r"interagency|cross.agency", "기관 간"),
    (r"working (?:group|team)\w*", "실무 그룹 실무팀"),
    (r"quarterly", "분기별"),
    (r"biweekly|every two weeks|every other week", "격주"),
    (r"meet\w*|conference\w*", "회의"),
    (r"communicat\w*|outreach|social media", "커뮤니케이션 봉사 소셜 미디어"),
    (r"sustain\w*", "지속 가능 유지"),
    (r"security|secure", "보안 안보"),
    (r"national security|defen[cs]e", "국가 안보 국방"),
    (r"competitive\w*", "경쟁력"),
    (r"productivity", "생산성"),
    (r"readiness level\w*|\btrl\b", "기술 준비 수준 TRL"),
    (r"valley of death", "죽음의 계곡"),
    (r"biopharma\w*|drug\w*|pharmaceutical\w*", "바이오의약품 의약품"),
    (r"additive|3d print\w*", "적층 제조 3D 프린팅"),
    (r"composite\w*", "복합재"),
    (r"photonic\w*", "포토닉스"),
    (r"textile\w*|fabric\w*|fiber\w*", "섬유 직물"),
    (r"lightweight", "경량"),
    (r"power electronic\w*|wide bandgap", "전력 전자 밴드갭"),
    (r"tissue\w*|regenerative", "조직 재생"),
    (r"bioindustrial|biomanufactur\w*", "생물산업 바이오제조"),
    (r"process heat\w*|electrif\w*", "공정 가열 전기화"),
    (r"recycl\w*", "재활용"),
    (r"interagency working team", "기관간 실무팀"),
    (r"director\w*", "이사 소장"),
    (r"how many|number of", "수"),
    (r"percent\w*|share", "%"),
    (r"first", "첫 번째"),
    (r"appendix", "부록"),
    (r"footnote\w*|cite\w*|source\w*", "출처"),
    (r"white house", "백악관"),
    (r"in-space|space", "우주"),
    (r"agricultur\w*|farm\w*|forest\w*|food", "농업 임업 식품"),
    (r"health", "건강 보건"),
    (r"labor|labour", "노동"),
    (r"accomplish\w*|progress", "진전 진행"),
    (r"implement\w*", "실행 이행"),
    (r"expan\w*", "확장 확대"),
    (r"technology transfer", "기술 이전"),
)
# fmt: on


@dataclass
class Glossary:
    """Lookup structures over ENTITIES, built once."""

    entities: tuple[Entity, ...] = ENTITIES
    by_key: dict[str, Entity] = field(init=False)
    _ko_pattern: re.Pattern[str] = field(init=False)
    _ko_to_key: dict[str, str] = field(init=False)
    _en_pattern: re.Pattern[str] = field(init=False)
    _acronym_pattern: re.Pattern[str] = field(init=False)
    _en_to_key: dict[str, str] = field(init=False)
    _terms: list[tuple[re.Pattern[str], str]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_key = {e.key: e for e in self.entities}
        self._ko_to_key = {}
        for e in self.entities:
            for form in e.ko:
                self._ko_to_key.setdefault(form, e.key)
        ko_forms = sorted(self._ko_to_key, key=len, reverse=True)
        # Korean forms are matched as substrings (Korean glues particles to nouns), but an
        # ASCII form must not sit inside a longer Latin word ("AFFA" inside "AFFAIRS").
        self._ko_pattern = re.compile(
            "|".join(
                (rf"(?<![A-Za-z]){re.escape(f)}(?![A-Za-z])" if f.isascii() else re.escape(f))
                for f in ko_forms
            )
        )
        self._en_to_key = {}
        for e in self.entities:
            for form in (e.key, *e.aliases_en, e.name_en):
                self._en_to_key.setdefault(form.lower(), e.key)
        en_forms = sorted(self._en_to_key, key=len, reverse=True)
        # Short all-capital acronyms (ED, ARM, AIM, MIC) are ordinary English words in
        # lower case, so they only match in capitals; longer names match in any case.
        originals = {form for e in self.entities for form in (e.key, *e.aliases_en)}
        short = sorted({f for f in originals if self._is_short_acronym(f)}, key=len, reverse=True)
        long_ = [f for f in en_forms if not self._is_short_acronym(f)]
        self._en_pattern = re.compile(
            r"(?<![A-Za-z0-9])(?:" + "|".join(re.escape(f) for f in long_) + r")(?![A-Za-z0-9])",
            re.IGNORECASE,
        )
        self._acronym_pattern = re.compile(
            r"(?<![A-Za-z0-9])(?:" + "|".join(re.escape(f) for f in short) + r")(?![A-Za-z0-9])"
        )
        self._terms = [(re.compile(rf"\b(?:{p})", re.IGNORECASE), ko) for p, ko in TERMS_EN_KO]

    @staticmethod
    def _is_short_acronym(form: str) -> bool:
        return len(form) <= 4 and form.isalpha()

    # ------------------------------------------------------------------ detection

    def entities_in(self, text: str) -> list[str]:
        """Keys of the entities a text names, in either language, first mention first."""
        found: dict[str, int] = {}
        for m in self._ko_pattern.finditer(text):
            found.setdefault(self._ko_to_key[m.group(0)], m.start())
        for pattern in (self._en_pattern, self._acronym_pattern):
            for m in pattern.finditer(text):
                found.setdefault(self._en_to_key[m.group(0).lower()], m.start())
        return [k for k, _ in sorted(found.items(), key=lambda kv: kv[1])]

    def places_in(self, text: str) -> set[str]:
        """English names of the Table 1 cities/states a text names, in either language."""
        found = {en for ko, en in PLACES_KO_EN.items() if ko in text}
        found |= {en for en in set(PLACES_KO_EN.values()) if re.search(rf"(?<![A-Za-z]){re.escape(en)}(?![A-Za-z])", text)}
        # "New York" is also inside "New York, New York" — fine; but drop states named only as
        # part of a longer place we already have (e.g. "York" never occurs alone).
        return {f"place:{p}" for p in found}

    def countries_in(self, text: str) -> set[str]:
        """Countries (other than the U.S.) a text names, in either language, as English names.

        "한국어" (the Korean language) is not the country."""
        found = {en for ko, en in COUNTRIES_KO_EN.items() if re.search(rf"{ko}(?!어)", text)}
        for en in {*COUNTRIES_KO_EN.values(), *_COUNTRY_EN_ALIASES}:
            if re.search(rf"(?<![A-Za-z]){re.escape(en)}(?![A-Za-z])", text):
                found.add(_COUNTRY_EN_ALIASES.get(en, en))
        return found

    def english_names(self, keys: list[str]) -> list[str]:
        return [self.by_key[k].key for k in keys if k in self.by_key]

    # ------------------------------------------------------------------ rewriting

    def fix_artifacts(self, text: str) -> str:
        """Replace MT artifacts by the real name (암사슴 -> DOE), for text shown to an LLM."""
        for e in self.entities:
            for art in e.mt_artifacts:
                text = text.replace(art, e.key)
        for wrong, right in WORD_ARTIFACTS_KO.items():
            text = text.replace(wrong, right)
        return text

    def annotate_artifacts(self, text: str) -> str:
        """Keep the MT wording but add the real name: '승강기(LIFT)' (for display)."""
        for e in self.entities:
            for art in e.mt_artifacts:
                text = re.sub(rf"{re.escape(art)}(?!\()", f"{art}({e.key})", text)
        return text

    # ------------------------------------------------------------------ query expansion

    def expansion_terms(self, text: str, lang: str) -> list[str]:
        """Extra search terms in the other language (and the MT's wrong forms).

        English question: Korean forms (incl. artifacts: the text says 승강기 for LIFT) of the
        named entities, plus the Korean domain words of the question's English terms.
        Korean question: English names and the MT forms of the named entities.
        """
        terms: list[str] = []
        for key in self.entities_in(text):
            e = self.by_key[key]
            terms.extend(e.ko if lang == "en" else (e.key, *e.aliases_en[:1], *e.ko))
            if lang == "en" and e.sponsor:
                terms.append(e.key)
        if lang == "en":
            for pattern, ko in self._terms:
                if pattern.search(text):
                    terms.append(ko)
        seen: set[str] = set()
        out = []
        for t in terms:
            if t not in seen and t not in text:
                seen.add(t)
                out.append(t)
        return out


@lru_cache(maxsize=1)
def glossary() -> Glossary:
    return Glossary()


def institute_facts(key: str) -> InstituteFacts:
    for f in INSTITUTE_FACTS:
        if f.key == key:
            return f
    raise KeyError(key)
