//! The remittance voucher: a one-page PDF naming the order and amount,
//! served once ET has remitted (status 3 or 4).

use et_model::OrderStatus;
use http::StatusCode;

use crate::app::App;
use crate::clock::beijing_datetime;
use crate::html::{failed, not_found};
use crate::reply::{reply, Reply};
use crate::store::{self, OrderRecord};

/// `GET /vouchers/{order_id}.pdf`.
pub(crate) fn serve(app: &App, file: &str) -> Reply {
    let Some(id) = file.strip_suffix(".pdf") else {
        return not_found("vouchers are PDF files");
    };
    match app.store.tx(|c| store::order(c, id)) {
        Ok(Some(o))
            if matches!(
                o.status,
                OrderStatus::AwaitingReceipt | OrderStatus::Completed
            ) =>
        {
            let pdf = voucher_pdf(&o, &beijing_datetime(o.updated_at));
            reply(StatusCode::OK, "application/pdf", pdf)
        }
        Ok(_) => not_found(&format!("no remittance voucher for order {id:?}")),
        Err(e) => failed(&e.into()),
    }
}

/// A one-page PDF voucher naming the order and amount (valid PDF 1.4 with
/// a correct cross-reference table).
fn voucher_pdf(o: &OrderRecord, remitted_at: &str) -> Vec<u8> {
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
         0 -24 Td (Order: {}) Tj 0 -20 Td (Amount: {}) Tj 0 -20 Td (Remitted: {} UTC+8) Tj ET",
        line(&o.order_id),
        line(&o.amount.readable(&o.currency_code).to_string()),
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
