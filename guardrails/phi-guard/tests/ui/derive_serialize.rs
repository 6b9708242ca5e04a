use phi_guard::Phi;

#[derive(serde::Serialize)]
struct ExportRow {
    id: u64,
    name: Phi<String>,
}

fn main() {
    let row = ExportRow { id: 1, name: Phi::new(String::from("Synthetic Person")) };
    let _ = serde_json::to_vec(&row);
}
