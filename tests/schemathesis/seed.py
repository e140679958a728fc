#!/usr/bin/env python3
"""Seeds a fresh motcua server for the fuzzer (tests/schemathesis/run): staff accounts and a
portal client at one ward, and one dossier in each state of the state machine
(src/core/machine.rs, src/core/dossier.rs `Status`), each driven there through the real
HTTP API as a clerk, an official, a leader and the portal would. Standard library only.

Three steps, each run by `run`:

    seed.py accounts --bin target/debug/motcua --state DIR --log-dir DIR
        `motcua user add` (clerk, official, leader) and `motcua portal add`; the portal's
        generated secret is kept in DIR/accounts.json (0600).
    seed.py early --base http://127.0.0.1:PORT --state DIR
        on a server whose clock starts 20 days back (MOTCUA_CLOCK_START): a dossier whose
        supplement is requested then, so that the desk may close it today (the rule set's
        `supplement_wait_days` is 15 calendar days).
    seed.py main --base http://127.0.0.1:PORT --state DIR
        on the server with the real clock: every other state, a scan and an electronic
        result, a petition; tokens of a clerk and of the portal; DIR/seed.json, read by
        hooks.py and run.

The applicants' data here are made up; tests/log_privacy.rs reads this file's literals as
it reads the Rust tests' and fails if a server log holds one.
"""

import argparse
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

# The ward that receives and handles everything; a neighbouring ward for hand-overs.
WARD = "000.00.51.H26"
OTHER_WARD = "000.00.52.H26"
# Khai sinh: a counter procedure of the ward, two papers.
BIRTH = "1.001193.000.00.00.H26"
# Đăng ký thành lập hộ kinh doanh: submitted online through the portal.
HOUSEHOLD = "1.001612.000.00.00.H26"

STAFF = {
    "clerk": "fuzz.clerk",
    "official": "fuzz.official",
    "leader": "fuzz.leader",
}
PORTAL_CLIENT = "fuzz.portal"
CREDENTIALS = {"password": "fuzz-mat-khau-du-dai-7"}

APPLICANTS = [
    {"full_name": "Lê Văn Thử", "id_number": "079203001122", "phone": "0987001122"},
    {"full_name": "Ngô Thị Kiểm", "id_number": "079203003344", "phone": "0987003344"},
]

BIRTH_PAPERS = [
    {"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original", "count": 1},
    {"name": "Giấy chứng sinh", "kind": "original", "count": 1},
]
HOUSEHOLD_PAPERS = [
    {"name": "Giấy đề nghị đăng ký hộ kinh doanh theo mẫu", "kind": "original"},
]

PDF = (
    b"%PDF-1.4\n% motcua fuzz seed\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


class Failed(Exception):
    pass


# ─── HTTP ────────────────────────────────────────────────────────────────────


def call(base, method, path, token=None, body=None, raw=None, content_type=None, want=None):
    """One request; the status and the parsed JSON answer (or the raw bytes)."""
    headers = {"Accept": "application/json"}
    data = None
    if token:
        headers["Authorization"] = "Bearer " + token
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    elif raw is not None:
        data = raw
        headers["Content-Type"] = content_type
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, payload = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, payload = e.code, e.read()
    try:
        answer = json.loads(payload) if payload else None
    except ValueError:
        answer = payload
    if want is not None and status != want:
        raise Failed(f"{method} {path}: {status}, expected {want}: {answer!r}"[:2000])
    return status, answer


def login(base, username):
    body = {"username": username}
    body.update(CREDENTIALS)
    _, b = call(base, "POST", "/api/v1/auth/login", body=body, want=200)
    return b["access_token"]


def portal_login(base, secret):
    body = {"client_id": PORTAL_CLIENT, "client_secret": secret}
    _, b = call(base, "POST", "/api/v1/auth/token", body=body, want=200)
    return b["access_token"]


def event(base, token, code, body, want=201):
    _, b = call(base, "POST", f"/api/v1/dossiers/{code}/events", token, body, want=want)
    return b


def upload(base, token, code, target, name):
    boundary = "----motcua-fuzz-seed-boundary"
    payload = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
        f"filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n"
    ).encode() + PDF + f"\r\n--{boundary}--\r\n".encode()
    _, b = call(
        base,
        "POST",
        f"/api/v1/dossiers/{code}/files?{target}",
        token,
        raw=payload,
        content_type=f"multipart/form-data; boundary={boundary}",
        want=201,
    )
    return b


def counter_intake(base, clerk, applicant):
    body = {
        "procedure_code": BIRTH,
        "channel": "counter",
        "applicant": applicant,
        "papers": BIRTH_PAPERS,
    }
    _, b = call(base, "POST", "/api/v1/dossiers", clerk, body, want=201)
    return {"code": b["code"], "pin": b["pin"]}


def online_submission(base, portal, applicant):
    body = {
        "procedure_code": HOUSEHOLD,
        "channel": "online",
        "receiving_agency": WARD,
        "applicant": applicant,
        "papers": HOUSEHOLD_PAPERS,
    }
    _, b = call(base, "POST", "/api/v1/dossiers", portal, body, want=201)
    return {"code": b["code"], "pin": b["pin"]}


# ─── the steps ───────────────────────────────────────────────────────────────


def state_file(state, name):
    return os.path.join(state, name)


def write_private(path, value):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(value, f, indent=1, ensure_ascii=False)
        f.write("\n")


def read(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def motcua(binary, log_dir, label, args, stdin=None):
    """One `motcua` command, its log kept like the tests' (target/test-server-logs)."""
    env = dict(os.environ)
    env["MOTCUA_LOG_FILE"] = os.path.join(
        log_dir, f"schemathesis-{os.getpid()}-{label}.jsonl"
    )
    env["MOTCUA_LOG_FILE_FILTER"] = "info,motcua=debug"
    env["RUST_LOG"] = "warn"
    r = subprocess.run(
        [binary, *args], input=stdin, env=env, capture_output=True, text=True, timeout=120
    )
    if r.returncode != 0:
        raise Failed(f"motcua {' '.join(args[:2])}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def accounts(args):
    for role, username in STAFF.items():
        motcua(
            args.bin,
            args.log_dir,
            f"user_add_{role}",
            ["user", "add", "--username", username, "--full-name", f"Cán bộ thử nghiệm {role}",
             "--role", role, "--agency", WARD],
            stdin=CREDENTIALS["password"] + "\n",
        )
    out = motcua(
        args.bin,
        args.log_dir,
        "portal_add",
        ["portal", "add", "--client-id", PORTAL_CLIENT, "--name", "Cổng thử nghiệm",
         "--agency", WARD],
    )
    secret = next(
        (l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("client_secret:")),
        None,
    )
    if not secret:
        raise Failed("motcua portal add printed no client_secret")
    write_private(state_file(args.state, "accounts.json"), {"portal_secret": secret})
    print(f"seed: accounts {', '.join(STAFF.values())} at {WARD}; portal client {PORTAL_CLIENT}")


def early(args):
    base = args.base
    clerk = login(base, STAFF["clerk"])
    official = login(base, STAFF["official"])
    d = counter_intake(base, clerk, APPLICANTS[1])
    event(base, official, d["code"], {
        "type": "request_supplement",
        "items": ["Giấy chứng sinh bản chính"],
        "reason": "Bản nộp bị mờ, không đọc được",
    })
    write_private(state_file(args.state, "early.json"), {"to_close": d})
    print(f"seed: {d['code']} awaits its supplement since the server's clock start")


def main_step(args):
    base = args.base
    secret = read(state_file(args.state, "accounts.json"))["portal_secret"]
    to_close = read(state_file(args.state, "early.json"))["to_close"]
    clerk = login(base, STAFF["clerk"])
    official = login(base, STAFF["official"])
    leader = login(base, STAFF["leader"])
    portal = portal_login(base, secret)
    a, b = APPLICANTS
    dossiers = {}
    files = []
    documents = []

    # Online, not received yet: submitted; needs correction; refused at intake.
    dossiers["submitted"] = online_submission(base, portal, a)
    d = online_submission(base, portal, b)
    event(base, clerk, d["code"], {
        "type": "request_correction",
        "items": ["Bản sao giấy tờ pháp lý của chủ hộ"],
        "reason": "Thiếu giấy tờ của chủ hộ kinh doanh",
    })
    dossiers["needs_correction"] = d
    d = online_submission(base, portal, a)
    event(base, clerk, d["code"], {"type": "refuse", "reason": "Không thuộc thẩm quyền"})
    dossiers["refused_at_intake"] = d

    # Received at the counter, a scan of its first paper.
    d = counter_intake(base, clerk, a)
    f = upload(base, clerk, d["code"], "paper=1", "to-khai.pdf")
    files.append({"code": d["code"], "id": str(f.get("id", "")), "pin": d["pin"]})
    dossiers["received"] = d

    # An online dossier received officially, with a pending hand-over to the next ward.
    d = online_submission(base, portal, b)
    event(base, clerk, d["code"], {"type": "receive"})
    event(base, official, d["code"], {
        "type": "handover", "to_agency": OTHER_WARD, "electronic": True,
        "note": "Xin ý kiến phối hợp",
    })
    dossiers["received_online_handover_pending"] = d

    # In progress: paused, then resumed.
    d = counter_intake(base, clerk, b)
    event(base, official, d["code"], {
        "type": "pause", "reason": "Chờ kết quả xác minh", "legal_basis": "Điều 19 NĐ 118/2025",
    })
    event(base, official, d["code"], {"type": "resume"})
    event(base, leader, d["code"], {"type": "assign", "user": STAFF["official"]})
    dossiers["in_progress"] = d

    d = counter_intake(base, clerk, a)
    event(base, official, d["code"], {
        "type": "request_supplement",
        "items": ["Giấy chứng sinh bản chính"],
        "reason": "Bản nộp bị mờ",
    })
    dossiers["supplement_requested"] = d

    d = counter_intake(base, clerk, b)
    event(base, official, d["code"], {
        "type": "pause", "reason": "Chờ ý kiến cơ quan khác", "legal_basis": "Điều 19 NĐ 118/2025",
    })
    dossiers["paused"] = d

    # Approved with an electronic result, not returned yet.
    d = counter_intake(base, clerk, a)
    event(base, official, d["code"], {"type": "propose", "note": "Đủ điều kiện"})
    event(base, leader, d["code"], {
        "type": "decide", "outcome": "approved", "result": {"number": "01/2026/KS-FUZZ"},
    })
    f = upload(base, leader, d["code"], "result", "ket-qua.pdf")
    files.append({"code": d["code"], "id": str(f.get("id", "")), "pin": d["pin"]})
    if f.get("document_id"):
        documents.append({"code": d["code"], "document_id": f["document_id"], "pin": d["pin"]})
    dossiers["approved"] = d

    d = counter_intake(base, clerk, b)
    event(base, leader, d["code"], {
        "type": "decide", "outcome": "refused", "reason": "Không đủ điều kiện đăng ký",
    })
    dossiers["refused"] = d

    # Returned with its result, paid, not yet rated (the public rating may be tried).
    d = counter_intake(base, clerk, a)
    event(base, clerk, d["code"], {"type": "payment", "amount": 8000, "method": "cash"})
    event(base, leader, d["code"], {"type": "decide", "outcome": "approved"})
    f = upload(base, leader, d["code"], "result", "ket-qua-da-tra.pdf")
    if f.get("document_id"):
        documents.append({"code": d["code"], "document_id": f["document_id"], "pin": d["pin"]})
    event(base, clerk, d["code"], {"type": "return", "channel": "counter"})
    dossiers["returned"] = d

    d = counter_intake(base, clerk, b)
    event(base, clerk, d["code"], {"type": "stop", "reason": "Người nộp xin rút hồ sơ"})
    dossiers["stopped"] = d

    # Closed: its supplement was requested 20 days ago (the `early` step).
    event(base, clerk, to_close["code"], {
        "type": "close", "reason": "Quá thời hạn không bổ sung hồ sơ",
    })
    dossiers["closed"] = to_close

    # Every status of the machine is there.
    for state, d in dossiers.items():
        _, got = call(base, "GET", f"/api/v1/dossiers/{d['code']}", clerk, want=200)
        d["status"] = got["status"]
    statuses = {d["status"] for d in dossiers.values()}
    wanted = {
        "submitted", "needs_correction", "refused_at_intake", "received", "in_progress",
        "supplement_requested", "paused", "approved", "refused", "returned", "stopped",
        "closed",
    }
    if not wanted <= statuses:
        raise Failed(f"statuses missing after seeding: {sorted(wanted - statuses)}")

    # A petition (phản ánh) about the ward.
    petition = {
        "kind": "report",
        "full_name": a["full_name"],
        "agency": WARD,
        "content": "Cán bộ hẹn trả kết quả nhưng chưa trả đúng hẹn.",
    }
    _, p = call(base, "POST", "/api/v1/public/petitions", body=petition, want=201)
    petitions = [{"code": p["code"], "pin": p["pin"]}]

    seed = {
        "staff_token": clerk,
        "portal_token": portal,
        "agency": WARD,
        "agencies": [WARD, OTHER_WARD],
        "procedures": [BIRTH, HOUSEHOLD],
        "users": list(STAFF.values()),
        "dossiers": dossiers,
        "files": [f for f in files if f["id"]],
        "documents": documents,
        "id_numbers": [x["id_number"] for x in APPLICANTS],
        "petitions": petitions,
    }
    write_private(state_file(args.state, "seed.json"), seed)
    print(f"seed: {len(dossiers)} dossiers, one per status:")
    for state, d in dossiers.items():
        print(f"  {d['status']:<22} {d['code']}  ({state})")
    print(
        f"seed: {len(seed['files'])} stored files, {len(documents)} electronic results, "
        f"{len(petitions)} petition; tokens: clerk {STAFF['clerk']}, portal {PORTAL_CLIENT}"
    )


def cli():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="step", required=True)
    s = sub.add_parser("accounts")
    s.add_argument("--bin", required=True)
    s.add_argument("--state", required=True)
    s.add_argument("--log-dir", required=True)
    for name in ("early", "main"):
        s = sub.add_parser(name)
        s.add_argument("--base", required=True)
        s.add_argument("--state", required=True)
    args = p.parse_args()
    try:
        {"accounts": accounts, "early": early, "main": main_step}[args.step](args)
    except Failed as e:
        print(f"seed: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    cli()
