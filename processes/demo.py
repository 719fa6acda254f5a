"""Demo data for one plant: a Ningbo machinery maker's after-sales team, its customers and machines.

Loaded by ``make run`` on an empty database (``closeloop demo load``); every login's password is
``DEMO_PASSWORD`` and is printed in the README.  Deterministic, so screenshots and tests agree.
"""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .accounts.models import User
from .accounts.service import create_user, hash_password
from .customers.models import Customer, Site
from .devices.models import Device
from .dispatch.models import DeviceTypeSkills, EngineerGroup, KeywordSkills, Skill
from .engineers.models import Engineer
from .kpi import demo_history
from .rootcauses import service as rootcauses

DEMO_PASSWORD = "closeloop-demo"
PLANT = (29.8683, 121.5440)  # Ningbo

STAFF = [
    ("agent", "agent", "林小雨 (客服)"),
    ("agent2", "agent", "Emma Lin (agent)"),
    ("supervisor", "supervisor", "王建国 (售后主管)"),
    ("owner", "process_owner", "赵流程 (流程负责人)"),
    ("auditor", "auditor", "钱审计 (审计)"),
    ("admin", "admin", "系统管理员"),
]
# Three teams living in their part of the city, each engineer with a main skill and one or two more, as
# field engineers of a machine builder are trained. Hydraulics is deliberately thin (three engineers):
# the plant of the seed found it lacked hydraulics engineers (brief D7), and the staffing report shows it.
ENGINEERS = [
    ("zhangwei", "张伟", "north", {"FANUC": 5, "spindle": 4, "PLC programming": 2}),
    ("liqiang", "李强", "north", {"FANUC": 3, "PLC programming": 4, "coolant system": 2}),
    ("wangfang", "王芳", "north", {"Siemens 840D": 5, "spindle": 3, "coolant system": 3}),
    ("liuyang", "刘洋", "north", {"hydraulic valve block": 4, "coolant system": 3, "PLC programming": 2}),
    ("chenjie", "陈杰", "south", {"PLC programming": 5, "Siemens 840D": 3, "spindle": 2}),
    ("yanglei", "杨磊", "south", {"FANUC": 4, "coolant system": 4, "spindle": 2}),
    ("zhaomin", "赵敏", "south", {"spindle": 5, "FANUC": 2, "Siemens 840D": 2}),
    ("huangyong", "黄勇", "south", {"hydraulic valve block": 3, "PLC programming": 2, "coolant system": 2}),
    ("zhoutao", "周涛", "east", {"Siemens 840D": 4, "FANUC": 3, "spindle": 2}),
    ("wujing", "吴静", "east", {"coolant system": 5, "spindle": 2, "Siemens 840D": 2}),
    ("xubin", "徐斌", "east", {"PLC programming": 3, "hydraulic valve block": 2, "FANUC": 2}),
    ("sunhao", "孙浩", "east", {"FANUC": 4, "Siemens 840D": 2, "spindle": 3}),
]
# Where each team lives, as (north, east) km from the plant: north of the river (镇海/江北), south
# (鄞州/奉化), east (北仑). Engineers' homes scatter about 2–3 km around their team's point, and their
# service radius (12 or 15 km) covers the city's industrial belt that the customers' sites lie in.
GROUP_HOMES_KM = {"north": (5.0, -1.0), "south": (-5.0, -1.0), "east": (0.5, 6.0)}
# Sample requests of a realistic first morning, on the demo devices (index into the devices as loaded:
# customer i's devices are 2i and 2i+1), none red. The recommender should find three engineers for most.
SAMPLE_TICKETS = [
    (0, "yellow", "主轴异响，加工尺寸超差"),
    (1, "orange", "西门子840D报警，主轴无法启动"),
    (2, "yellow", "液压站漏油，压力不稳"),
    (3, "blue", "PLC程序报错，合模不动作"),
    (4, "blue", "主轴异响，工件表面有振纹"),
    (5, "yellow", "冷却液乳化发臭"),
    (6, "orange", "FANUC报警，伺服未就绪"),
    (7, "blue", "冷却液不出，刀具过热"),
]
MODELS = {
    "cnc_lathe": ["CK6150 (FANUC 0i-TF)", "CK6140 (FANUC 0i-TD)"],
    "machining_center": ["VMC850 (Siemens 840D)", "VMC1060 (Siemens 840D sl)"],
    "hydraulic_press": ["YH32-315", "YH27-500"],
    "injection_molding": ["HX-280 (S7-1200)", "HX-450 (S7-1500)"],
    "grinder": ["M1432 spindle grinder", "MK7120"],
    "coolant_unit": ["CU-200 coolant unit", "CU-400 filter unit"],
}
GROUP_LABELS = {"north": ("North team", "北区组"), "south": ("South team", "南区组"), "east": ("East team", "东区组")}
TOWNS = ["鄞州", "北仑", "镇海", "江北", "海曙", "慈溪", "余姚", "奉化"]
SKILLS = {
    "FANUC": ("FANUC controls", "FANUC系统"),
    "Siemens 840D": ("Siemens 840D controls", "西门子840D系统"),
    "hydraulic valve block": ("Hydraulic valve blocks", "液压阀组"),
    "PLC programming": ("PLC programming", "PLC编程"),
    "spindle": ("Spindles", "主轴"),
    "coolant system": ("Coolant systems", "冷却系统"),
}
DEVICE_TYPES = {
    "cnc_lathe": ("CNC lathe", "数控车床", ["FANUC"]),
    "machining_center": ("Machining centre", "加工中心", ["Siemens 840D"]),
    "hydraulic_press": ("Hydraulic press", "液压机", ["hydraulic valve block"]),
    "injection_molding": ("Injection moulding machine", "注塑机", ["PLC programming"]),
    "grinder": ("Grinder", "磨床", ["spindle"]),
    "coolant_unit": ("Coolant unit", "冷却液装置", ["coolant system"]),
}
KEYWORDS = {
    "主轴": ["spindle"],
    "spindle": ["spindle"],
    "主轴异响": ["spindle"],
    "spindle noise": ["spindle"],
    "液压": ["hydraulic valve block"],
    "hydraulic": ["hydraulic valve block"],
    "漏油": ["hydraulic valve block"],
    "阀组": ["hydraulic valve block"],
    "PLC": ["PLC programming"],
    "梯形图": ["PLC programming"],
    "冷却液": ["coolant system"],
    "coolant": ["coolant system"],
    "乳化": ["coolant system"],
    "coolant emulsified": ["coolant system"],
    "FANUC": ["FANUC"],
    "发那科": ["FANUC"],
    "840D": ["Siemens 840D"],
    "西门子": ["Siemens 840D"],
}
TRADES = ["精密机械", "汽配", "模具", "五金", "轴承", "液压", "电机", "塑胶"]


def _near(rng: random.Random, km: float) -> tuple[float, float]:
    """A point within about ``km`` of the plant (1° latitude ≈ 111 km)."""
    return (round(PLANT[0] + rng.uniform(-km, km) / 111.0, 6), round(PLANT[1] + rng.uniform(-km, km) / 96.5, 6))


def _home(group: str, draw: tuple[float, float]) -> tuple[float, float]:
    """The team's point plus a third of a random offset (the draw keeps the generator's sequence, and so
    every site's position, as it was)."""
    north_km, east_km = GROUP_HOMES_KM[group]
    lat = PLANT[0] + north_km / 111.0 + (draw[0] - PLANT[0]) / 3
    lon = PLANT[1] + east_km / 96.5 + (draw[1] - PLANT[1]) / 3
    return round(lat, 6), round(lon, 6)


def load(session: Session, history_until: datetime | None = None, timezone: str = "Asia/Shanghai") -> bool:
    """Load the demo plant into an empty database; returns False if users already exist.

    With ``history_until`` (``closeloop demo load`` and ``closeloop run`` pass the clock's now) the plant
    also gets three months of service history ending then (``kpi.demo_history``), so the dashboards
    have something to show; tests leave it out and build the histories they check by hand.
    """
    if session.scalar(select(func.count()).select_from(User)):
        return False
    rng = random.Random(20260115)
    password = hash_password(DEMO_PASSWORD)  # one argon2 run for every demo account
    staff = {}
    for i, (username, role, name) in enumerate(STAFF):
        staff[username] = create_user(
            session,
            username,
            password,
            role,
            name,
            locale="en" if username == "agent2" else None,
            phone=f"1380574{i:04d}",
        )
    for tag, (en, zh) in SKILLS.items():
        session.add(Skill(tag=tag, name_en=en, name_zh=zh))
    for device_type, (en, zh, skills) in DEVICE_TYPES.items():
        session.add(DeviceTypeSkills(device_type=device_type, name_en=en, name_zh=zh, skills=skills))
    for keyword, skills in KEYWORDS.items():
        session.add(KeywordSkills(keyword=keyword, skills=skills))
    rootcauses.seed(session)
    for group in sorted({g for _, _, g, _ in ENGINEERS}):
        label_en, label_zh = GROUP_LABELS[group]
        session.add(
            EngineerGroup(name=group, label_en=label_en, label_zh=label_zh, supervisor_user_id=staff["supervisor"].id)
        )
    session.flush()
    for i, (username, name, group, skills) in enumerate(ENGINEERS):
        user = create_user(session, username, password, "engineer", name, phone=f"1390574{i:04d}")
        lat, lon = _home(group, _near(rng, 6))
        session.add(
            Engineer(
                user_id=user.id,
                name=name,
                phone=user.phone or "",
                group=group,
                skills=skills,
                home_lat=lat,
                home_lon=lon,
                radius_km=15.0 if i % 3 else 12.0,
                status="idle",
                daily_capacity=4,
            )
        )
    types = list(MODELS)
    for i in range(30):
        town = TOWNS[i % len(TOWNS)]
        customer = Customer(
            name=f"宁波{town}{TRADES[i % len(TRADES)]}有限公司 #{i + 1:02d}",
            contact_name=f"联系人{i + 1:02d}",
            phone=f"0574-8800{i:04d}",
            email=f"service{i + 1:02d}@example.cn",
            service_level="gold" if i % 5 == 0 else "standard",
        )
        session.add(customer)
        session.flush()
        lat, lon = _near(rng, 7)
        site = Site(
            customer_id=customer.id,
            name=f"{town}工厂",
            address=f"浙江省宁波市{town}区工业路{100 + i}号",
            region=town,
            lat=lat,
            lon=lon,
        )
        session.add(site)
        session.flush()
        for j in range(2):
            device_type = types[(i * 2 + j) % len(types)]
            serial = f"NB{2026000 + i * 2 + j:07d}"
            session.add(
                Device(
                    customer_id=customer.id,
                    site_id=site.id,
                    model=MODELS[device_type][j],
                    serial=serial,
                    device_type=device_type,
                    qr_code=f"QR-{serial}",
                )
            )
    session.flush()
    if history_until is not None:
        demo_history.load(session, history_until, timezone)
    return True
