//! No Docker engine runs in CI: check `docker-compose.yml` and the `Dockerfile` against the
//! project instead — service names, ports, the variables the SDK reads, the binaries and
//! examples they run, the scenario they load.

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml::Value;
use wechaty_client::{
    ENV_AUTHORITY, ENV_ENDPOINT, ENV_NO_TLS, ENV_TLS_CA_CERT, ENV_TLS_SERVER_NAME, ENV_TOKEN,
};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(name)).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .unwrap_or_else(|| panic!("expected a list, got {value:?}"))
        .iter()
        .map(|item| item.as_str().unwrap().to_owned())
        .collect()
}

fn env(service: &Value) -> BTreeMap<String, String> {
    service["environment"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_owned(),
                v.as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn compose_matches_the_project() {
    let compose: Value = serde_yaml::from_str(&read("docker-compose.yml")).unwrap();
    let services = compose["services"].as_mapping().unwrap();
    let names: Vec<&str> = services.keys().map(|k| k.as_str().unwrap()).collect();
    assert_eq!(names, ["puppet", "bot"]);
    let puppet = &compose["services"]["puppet"];
    let bot = &compose["services"]["bot"];

    // The puppet: the CLI's mock, on all addresses, a port, a scenario the image contains.
    let command = strings(&puppet["command"]);
    assert_eq!(command[0], "mock");
    let arg = |name: &str| {
        let at = command
            .iter()
            .position(|a| a == name)
            .unwrap_or_else(|| panic!("no {name}"));
        command[at + 1].clone()
    };
    assert_eq!(arg("--bind"), "0.0.0.0");
    let port = arg("--port");
    let scenario = arg("--scenario");
    let in_repo = scenario
        .strip_prefix("/usr/share/wechaty/")
        .expect("the Dockerfile copies scenarios to /usr/share/wechaty/scenarios");
    assert!(
        Path::new(ROOT).join(in_repo).is_file(),
        "{in_repo} is not in the repository"
    );
    wechaty_client::mock::Scenario::from_file(Path::new(ROOT).join(in_repo)).unwrap();
    let health = strings(&puppet["healthcheck"]["test"]);
    assert_eq!(health[1], "wechaty");
    assert!(health.contains(&format!("127.0.0.1:{port}")));
    assert!(puppet["healthcheck"]["interval"].as_str().is_some());

    // The bot: an example that exists, configured only by variables the SDK reads.
    let entrypoint = strings(&bot["entrypoint"]);
    assert!(
        Path::new(ROOT)
            .join(format!("examples/{}.rs", entrypoint[0]))
            .is_file(),
        "no example {}",
        entrypoint[0]
    );
    let known = [
        ENV_TOKEN,
        ENV_ENDPOINT,
        ENV_AUTHORITY,
        ENV_NO_TLS,
        ENV_TLS_CA_CERT,
        ENV_TLS_SERVER_NAME,
    ];
    let bot_env = env(bot);
    for name in bot_env.keys() {
        assert!(
            known.contains(&name.as_str()),
            "the SDK does not read {name}"
        );
    }
    assert_eq!(bot_env[ENV_ENDPOINT], format!("puppet:{port}"));
    assert_eq!(
        bot_env[ENV_TOKEN],
        env(puppet)[ENV_TOKEN],
        "both sides use one token"
    );
    assert_eq!(
        bot_env[ENV_NO_TLS], "true",
        "the mock serves plaintext unless --tls"
    );
    assert_eq!(bot["depends_on"]["puppet"]["condition"], "service_healthy");
}

#[test]
fn the_dockerfile_builds_what_compose_runs() {
    let dockerfile = read("Dockerfile");
    let build = dockerfile
        .lines()
        .find(|line| line.contains("cargo build"))
        .expect("a cargo build step");
    assert!(
        build.contains("--bin wechaty") && build.contains("--example room_bot"),
        "{build}"
    );
    assert!(build.contains("--locked"));
    assert!(dockerfile.contains("target/release/wechaty target/release/examples/room_bot"));
    assert!(dockerfile.contains("COPY scenarios/ /usr/share/wechaty/scenarios/"));
    // Two stages, the second small and not root.
    assert_eq!(
        dockerfile.matches("\nFROM ").count() + usize::from(dockerfile.starts_with("FROM")),
        2
    );
    assert!(dockerfile.contains("FROM debian:bookworm-slim"));
    let user = dockerfile
        .lines()
        .find(|line| line.starts_with("USER "))
        .unwrap();
    assert_ne!(user.trim(), "USER root");
    assert!(dockerfile.contains(r#"ENTRYPOINT ["wechaty"]"#));
}
