// `dslim image`: an existing image slimmed by its own command.
#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "cli/slim_command.hpp"
#include "dslim/environment.hpp"
#include "dslim/error.hpp"

namespace dslim::cli {

namespace {

struct ImageOptions {
  std::string src;
  SlimFlags slim;
  bool no_probe = false;
};

int run_image(ImageOptions opt) {
  if (opt.src.starts_with("dir:"))
    throw Error("image " + opt.src +
                    ": a directory has no config to run; slim its programs with "
                    "`dslim binary --pick PATH --from " +
                    opt.src + "`",
                ErrorKind::Usage);
  if (opt.no_probe && (!opt.slim.probes.empty() || !opt.slim.probe_http.empty()))
    throw Error("--no-probe: not with --probe or --probe-http", ErrorKind::Usage);
  slim::SlimRequest request;
  fill_request(opt.slim, request);
  opt.slim.source.from = opt.src;
  Source source = open_source(opt.slim.source, {});
  spdlog::trace("source {} opened", source.ref);
  const oci::ImageConfig image = source.config.value();
  const oci::ContainerConfig& config = image.config;
  rootfs::OverlayRootFs overlay(*source.fs);
  overlay.set_max_symlink_hops(opt.slim.source.max_symlink_hops);

  // The program the image runs, and the files its command names.
  const slim::EntryCommand entry = slim::find_entry_command(overlay, config, source.ref);
  request.picks = {entry.program};
  request.includes.insert(request.includes.end(), entry.files.begin(), entry.files.end());
  request.env = slim::merge_env(config.env, opt.slim.env);
  request.resolve = resolve_options(opt.slim.source, {});
  request.entrypoint = config.entrypoint;
  request.cmd = config.cmd;
  request.user = config.user;
  request.workdir = config.working_dir;
  if (!config.stop_signal.empty())
    request.stop_signal = slim::parse_signal(config.stop_signal, source.ref + ": StopSignal");
  // By default one probe: the image's own command.
  if (!opt.no_probe && request.probes.empty()) request.probes.push_back({});
  request.keep_owners = true;
  request.dirs = config.volumes;
  if (!config.working_dir.empty()) request.dirs.push_back(config.working_dir);
  request.source_accounts = true;
  slim::SlimPlan plan = slim::plan_image(request, overlay);

  SlimOutput output;
  output.spec.config = config;
  output.spec.config.env = request.env;
  output.spec.platform = image.platform;
  output.spec.epoch = source_date_epoch();
  output.spec.history_comment = "dslim image";
  output.source_size = source.size;
  return write_slim_image(opt.slim, source, overlay, plan, std::move(output));
}

}  // namespace

void add_image_command(CLI::App& app, const GlobalOptions&, int& exit_code) {
  auto opt = std::make_shared<ImageOptions>();
  auto* cmd = app.add_subcommand(
      "image", "Slim an existing image by its own command: the files it runs and touches");
  cmd->footer(
      "Examples:\n"
      "  dslim image oci:./app:1.0 -o oci:./slim:1.0\n"
      "  dslim image docker://registry.example.com/team/app:1.4 -o "
      "docker://registry.example.com/team/app:1.4-slim\n"
      "  dslim image python-app:3 --probe '/srv/app.py --selftest' -o oci-archive:slim.tar\n"
      "  dslim image oci:./web --probe-http 8080/healthz -o oci:./web-slim\n"
      "  dslim image oci:./tool --no-probe --include /usr/share/tool -o oci:./tool-slim\n"
      "\n"
      "The program is the config's Entrypoint[0], else Cmd[0]; a bare name is looked\n"
      "up along the config's PATH. Its loader and libraries come as for `binary`; a\n"
      "#! script brings its interpreter; a shell form (/bin/sh -c \"...\") keeps the\n"
      "shell; arguments that are files of the image (/srv/app.py) come too.\n"
      "\n"
      "Probe: by default the image's own Entrypoint and Cmd run once in the sandbox\n"
      "`binary --probe` uses (with its User, WorkingDir and Env), and every file of\n"
      "the image they touch is kept. At --probe-timeout (10 s) they get the image's\n"
      "StopSignal (SIGTERM by default), SIGKILL 2 s later: a server is probed until\n"
      "then. --probe ARGS replaces the Cmd as `docker run IMAGE ARGS` does (no\n"
      "Entrypoint: ARGS is the whole command), once per --probe; --probe-http as in\n"
      "`binary`; --no-probe keeps only what the files themselves say they need.\n"
      "\n"
      "The config is kept: Entrypoint, Cmd, Env (and --env), User (with its\n"
      "/etc/passwd and /etc/group lines), WorkingDir and Volumes (the directories\n"
      "are made), ExposedPorts, Labels, StopSignal, the platform; `created` comes\n"
      "from SOURCE_DATE_EPOCH (default 0). Files keep the owner, group and mode the\n"
      "image gives them (`binary` writes what it takes as root's, 0:0).\n"
      "\n"
      "SRC: oci:DIR[:TAG|@DIGEST], oci-archive:FILE[:TAG], docker-archive:FILE,\n"
      "docker://HOST/REPO[:TAG|@DIGEST] or REPO[:TAG] (Docker Hub). Not dir: (no\n"
      "config): use `dslim binary --pick PATH --from dir:ROOT`. Outputs, presets,\n"
      "inference and symbols as in `dslim binary --help`. The report ends with the\n"
      "sizes: `SRC → 11.2 MB from 98.4 MB (11.4%)`.\n"
      "Exit codes: 0 done, 1 usage, 2 bad input (no such entrypoint, missing library\n"
      "or symbol), 3 over --max-size, 4 registry or network.");
  cmd->add_option("SRC", opt->src, "The image to slim")->required();
  add_source_options(cmd, opt->slim.source, false);
  add_resolve_limit_options(cmd, opt->slim.source);
  add_slim_options(cmd, opt->slim,
                   "Run the image with ARGS (shell words) instead of its Cmd, in a sandbox, and "
                   "keep every file it touches (repeatable)");
  cmd->add_flag("--no-probe", opt->no_probe,
                "Do not run the image's command: keep only the static closure");
  cmd->callback([opt, &exit_code] { exit_code = run_image(*opt); });
}

}  // namespace dslim::cli
