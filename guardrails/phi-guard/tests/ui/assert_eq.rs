use phi_guard::Phi;

fn main() {
    let stored = Phi::new(String::from("Synthetic Person"));
    let given = Phi::new(String::from("Synthetic Person"));
    // `assert_eq!` prints both sides when they differ.
    assert_eq!(stored, given);
}
