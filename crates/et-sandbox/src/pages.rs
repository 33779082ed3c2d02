//! The pages' `<head>`, the jump page and the remittance voucher PDF (the
//! checkout page is the dashboard's, `crate::dashboard`).

use et_model::JumpPlaceOrder;
use maud::{html, Markup, DOCTYPE};

use crate::store::OrderRecord;

/// The `<head>` of every page: the style sheet, and the dashboard's script
/// on the dashboard's pages (ET's public pages run none).
pub(crate) fn head(title: Markup, script: bool) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) }
            link rel="stylesheet" href="/static/dashboard.css";
            @if script { script src="/static/dashboard.js" defer {} }
        }
    }
}

/// The jump page: what the merchant sent (read-only), and a form for the
/// rest. `entered` is the student's last input, shown again with `note`
/// when it was refused. A maud template: every value, all of it the
/// merchant's or the student's, is escaped.
pub(crate) fn jump_form(
    token: &str,
    op: &JumpPlaceOrder,
    entered: &[(String, String)],
    note: &str,
) -> Markup {
    let tuition = op.tuition.as_ref().map(|a| a.as_str().to_owned());
    let sent = [
        ("School", &op.school_name),
        ("Apartment", &op.apartment_name),
        ("City", &op.city_name_en),
        ("City (Chinese)", &op.city_name_ch),
        ("Amount", &tuition),
        ("Given name", &op.first_name_en),
        ("Family name", &op.last_name_en),
        ("Chinese name", &op.name_ch),
        ("ID number", &op.student_id_number),
        ("Mobile", &op.student_mobile),
        ("E-mail", &op.student_email),
        ("Address", &op.student_address),
        ("WeChat", &op.wechat_number),
    ];
    let asked = [
        (
            "institution_code",
            "Institution code (from get_institutions; empty for none)",
            true,
        ),
        (
            "country_code",
            "Country code (empty: the institution's)",
            true,
        ),
        ("currency_code", "Currency", true),
        ("tuition", "Amount in that currency", op.tuition.is_none()),
        (
            "first_name_en",
            "Given name (English)",
            op.first_name_en.is_none(),
        ),
        (
            "last_name_en",
            "Family name (English)",
            op.last_name_en.is_none(),
        ),
        ("name_ch", "Chinese name", op.name_ch.is_none()),
        ("student_email", "E-mail", op.student_email.is_none()),
    ];
    let value = |name: &str| {
        entered
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(html! { "EasyTransfer sandbox: place your order" }, false))
            body.checkout { div.card {
                h1 { "EasyTransfer sandbox: place your order" }
                @if !note.is_empty() { p.flash.note { (note) } }
                p { "Merchant order " span #merchant_order_id { (op.merchant_order_id) } ". Your merchant sent:" }
                table #from_merchant {
                    @for (label, v) in &sent {
                        @if let Some(v) = v { tr { th { (label) } td { (v) } } }
                    }
                }
                ul #fee_types {
                    @for f in op.fee_type_list.iter().flatten() {
                        li { (f.fee_type_desc) " (" (f.fee_type.to_string()) ")" }
                    }
                }
                form method="post" action=(format!("/jump/{token}")) {
                    @for (name, label, _) in asked.iter().filter(|(_, _, ask)| *ask) {
                        p { label { (label) " " input name=(name) value=(value(name)); } }
                    }
                    button type="submit" { "Place order" }
                }
            } }
        }
    }
}

/// A one-page PDF voucher naming the order and amount (valid PDF 1.4 with
/// a correct cross-reference table).
pub(crate) fn voucher_pdf(o: &OrderRecord, remitted_at: &str) -> Vec<u8> {
    let line = |s: &str| -> String {
        // PDF string literal: escape the delimiters, keep ASCII.
        s.chars()
            .filter(char::is_ascii)
            .flat_map(|c| match c {
                '(' | ')' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect()
    };
    let text = format!(
        "BT /F1 14 Tf 72 760 Td (EasyTransfer sandbox remittance voucher) Tj \
         0 -24 Td (Order: {}) Tj 0 -20 Td (Amount: {} {}) Tj 0 -20 Td (Remitted: {} UTC+8) Tj ET",
        line(&o.order_id),
        line(o.amount.as_str()),
        line(&o.currency_code),
        line(remitted_at),
    );
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for off in offsets {
        tail.push_str(&format!("{off:010} 00000 n \n"));
    }
    tail.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    pdf.extend_from_slice(tail.as_bytes());
    pdf
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(status: i64) -> OrderRecord {
        OrderRecord {
            merchant_order_id: "<script>".into(),
            ..OrderRecord::sample(et_model::OrderStatus::from_code(status))
        }
    }

    #[test]
    fn voucher_is_a_pdf_with_a_correct_xref() {
        let pdf = voucher_pdf(&order(3), "2024-01-01 10:00:00");
        let text = String::from_utf8(pdf).expect("ASCII PDF");
        assert!(text.starts_with("%PDF-1.4\n") && text.ends_with("%%EOF\n"));
        let startxref: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|t| t.lines().next())
            .and_then(|n| n.parse().ok())
            .expect("startxref");
        assert!(text[startxref..].starts_with("xref\n0 6\n"));
        for (i, entry) in text[startxref..].lines().skip(3).take(5).enumerate() {
            let off: usize = entry[..10].parse().expect("offset");
            assert!(
                text[off..].starts_with(&format!("{} 0 obj", i + 1)),
                "object {}",
                i + 1
            );
        }
    }
}
