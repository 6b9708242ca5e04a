use phi_guard::Phi;

// Each logged bit says whether the patient is the one guessed.
fn main() {
    let dob = Phi::new(19_700_101_u32);
    let guess = Phi::new(19_700_102_u32);
    tracing::info!(same_dob = dob == guess, "checked");

    let name = Phi::new(String::from("Synthetic Person"));
    let other = Phi::new(String::from("Another Person"));
    tracing::info!(renamed = name != other, "updated");
}
