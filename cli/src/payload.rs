//! `stockpicks payload`: a Lambda test payload of N S&P 500 symbols.

use anyhow::{bail, Result};
use clap::ValueEnum;
use stockpicks::domain::universe::Universe;
use stockpicks_sim::{self as sim};

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum PayloadForm {
    Test,
    Op,
}

pub(crate) fn payload(size: usize, seed: &str, form: PayloadForm) -> Result<()> {
    let all = Universe::sp500().members;
    if size == 0 || size > all.len() {
        bail!("--size must be between 1 and {}", all.len());
    }
    // A seeded partial Fisher-Yates shuffle: the same seed gives the same payload.
    let mut idx: Vec<usize> = (0..all.len()).collect();
    let mut state = sim::seed_from(seed);
    for i in 0..size {
        state = sim::synth::mix(state);
        let j = i + (state % (all.len() - i) as u64) as usize;
        idx.swap(i, j);
    }
    let mut chosen: Vec<String> = idx[..size].iter().map(|&i| all[i].symbol.index_form()).collect();
    chosen.sort();
    let body = match form {
        PayloadForm::Test => serde_json::json!({"test_mode": true, "test_symbols": chosen}),
        PayloadForm::Op => serde_json::json!({"op": "run", "symbols": chosen, "top": 25}),
    };
    println!("{}", serde_json::to_string_pretty(&body)?);
    Ok(())
}
