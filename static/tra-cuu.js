// The citizen's status page (/tra-cuu/{code}): asks the JSON lookup with the pin typed.
(function () {
  "use strict";
  var code = document.getElementById("code").getAttribute("data-code");
  var fmt = function (s) { if (!s) return ""; var d = new Date(s); return d.toLocaleString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh", hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit", year: "numeric" }); };
  var esc = function (s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]; }); };
  document.getElementById("f").addEventListener("submit", function (e) {
    e.preventDefault();
    var out = document.getElementById("out");
    var pin = document.getElementById("pin").value.trim();
    fetch("/api/v1/public/dossiers/" + encodeURIComponent(code) + "?pin=" + encodeURIComponent(pin))
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (a) {
        var j = a.j;
        if (!a.ok) { out.innerHTML = '<p class="err">' + esc(j.message) + "</p>"; return; }
        out.innerHTML = '<div class="box"><dl><dt>Thủ tục</dt><dd>' + esc(j.procedure.name) + "</dd><dt>Người nộp</dt><dd>" + esc(j.applicant_name) +
          "</dd><dt>Tình trạng</dt><dd>" + esc(j.status_label) + "</dd><dt>Tiếp nhận lúc</dt><dd>" + fmt(j.received_at) + "</dd><dt>Hẹn trả kết quả</dt><dd>" + fmt(j.reappointed_at || j.due_at) +
          "</dd><dt>Đang xử lý tại</dt><dd>" + esc(j.current_agency.name) + "</dd><dt>Kết quả</dt><dd>" + (j.result_ready ? "Đã có kết quả" : "Chưa có kết quả") +
          "</dd></dl><h2>Quá trình xử lý</h2><ul>" + j.history.map(function (h) { return "<li>" + fmt(h.at) + ": " + esc(h.label) + "</li>"; }).join("") + "</ul></div>";
      });
  });
})();
