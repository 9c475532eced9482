//! The `sentiflow` binary: parse the command line, load settings, dispatch.
//! Errors end here as one line on stderr and a non-zero exit code.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use sentiflow::cli::{Cli, Command};
use sentiflow::{commands, config};

fn main() -> ExitCode {
    // Env files first, so that clap sees their values as environment variables.
    if let Err(error) = std::env::current_dir()
        .map_err(anyhow::Error::from)
        .and_then(|dir| config::load_env_files(&dir))
    {
        eprintln!("error: {error:#}");
        return ExitCode::FAILURE;
    }
    config::apply_env_aliases();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    init_logging(&cli.log);
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.is::<commands::status::LagExceeded>() => {
            // Not a failure: "not yet", for whoever waits on it (exit 3).
            eprintln!("{error}");
            ExitCode::from(commands::status::LAG_EXCEEDED_EXIT)
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Score(args) => commands::score::run(args),
        Command::Run(args) => runtime()?.block_on(commands::run::run(args)),
        Command::Setup(args) => runtime()?.block_on(commands::setup::run(args)),
        Command::Produce(args) => runtime()?.block_on(commands::produce::run(args)),
        Command::Process(args) => runtime()?.block_on(commands::process::run(args)),
        Command::Status(args) => runtime()?.block_on(commands::status::run(args)),
        Command::Verify(args) => runtime()?.block_on(commands::verify::run(args)),
        Command::Serve(args) => runtime()?.block_on(commands::serve::run(args)),
        Command::Healthcheck(args) => commands::healthcheck::run(args),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Help and version print as clap renders them; a bad flag gets one line that says what to do.
fn usage_error(error: clap::Error) -> ExitCode {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = error.print();
        return if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    let rendered = error.render().to_string();
    let first = rendered
        .lines()
        .next()
        .unwrap_or("error: invalid command line");
    // Point at the subcommand's help only when there is such a subcommand.
    let command = std::env::args()
        .nth(1)
        .filter(|arg| {
            use clap::CommandFactory;
            Cli::command()
                .get_subcommands()
                .any(|sub| sub.get_name() == arg)
        })
        .map(|sub| format!("sentiflow {sub} --help"))
        .unwrap_or_else(|| "sentiflow --help".into());
    eprintln!("{first} (see `{command}`)");
    ExitCode::from(2)
}

/// Logs to stderr through `tracing` (librdkafka's own logs included, under
/// the target `librdkafka`); colour only on a terminal and without `NO_COLOR`.
fn init_logging(filter: &str) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && !no_color)
        .init();
}
