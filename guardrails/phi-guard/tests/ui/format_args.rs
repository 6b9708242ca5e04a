use phi_guard::Phi;

fn main() {
    let name = Phi::new(String::from("Synthetic Person"));
    std::io::Write::write_fmt(&mut std::io::stdout(), format_args!("{}", name)).unwrap();
}
