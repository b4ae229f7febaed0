//! Scoring throughput: ranks N synthetic companies with the default model and prints the
//! time of `rank` alone. `cargo run --release --example bench_scoring -- 100000`
//! Benchmarks live apart from tests: nothing here asserts on time.

use std::time::Instant;
use stockpicks::domain::fundamentals::Fundamentals;
use stockpicks::domain::model::Model;
use stockpicks::domain::scoring::{rank, Candidate};
use stockpicks::domain::universe::Member;
use stockpicks::domain::Symbol;
use stockpicks_sim::synth::{Synth, SECTORS};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    stockpicks::alloc::purge_freed_memory_promptly();
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let synth = Synth::new(42);
    let t = Instant::now();
    let candidates: Vec<Candidate> = (0..n)
        .map(|i| {
            let sym = format!("S{i}X");
            let v = synth.overview(&sym, 20_000);
            Candidate {
                member: Member {
                    symbol: Symbol::parse(&sym).unwrap(),
                    name: sym.clone(),
                    sector: SECTORS[i % SECTORS.len()].to_string(),
                    cik: Some(format!("{}", 1_000_000 + i)),
                },
                fundamentals: Fundamentals::from_overview(v.as_object().unwrap()),
            }
        })
        .collect();
    let build = t.elapsed();
    let model = Model::default_model();
    let mut best = f64::MAX;
    let mut ranked = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let r = rank(&model, &candidates);
        best = best.min(t.elapsed().as_secs_f64());
        ranked = r.ranked.len();
    }
    println!(
        "scoring: {n} stocks, {ranked} ranked, best of 3: {:.3} s ({:.2} us/stock); input generation {:.2} s",
        best,
        best * 1e6 / n as f64,
        build.as_secs_f64()
    );
}
