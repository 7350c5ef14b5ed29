// `dslim binary`: the main job, a slim image for one or more binaries.

#include <spdlog/spdlog.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/image_report.hpp"
#include "cli/slim_command.hpp"
#include "dslim/environment.hpp"
#include "dslim/error.hpp"
#include "dslim/sink.hpp"

namespace dslim::cli {

namespace {

constexpr const char* kDefaultPath = "PATH=/usr/local/bin:/usr/bin:/bin";

struct BinaryOptions {
  std::vector<std::string> apps;
  std::vector<std::string> picks;
  SlimFlags slim;
  std::string dest;
  std::string entrypoint;
  std::string cmd;
  std::string user;
  std::string workdir;
  std::vector<std::string> expose;
  std::vector<std::string> labels;
  bool multi_arch = false;
};

oci::ContainerConfig container_config(const BinaryOptions& opt, const slim::SlimPlan& plan) {
  oci::ContainerConfig config;
  config.entrypoint = command_words(opt.entrypoint, "--entrypoint");
  if (config.entrypoint.empty()) config.entrypoint = {plan.entry_paths.front()};
  config.cmd = command_words(opt.cmd, "--cmd");
  config.env = slim::merge_env(slim::merge_env({kDefaultPath}, plan.env), opt.slim.env);
  config.user = opt.user;
  config.working_dir = opt.workdir;
  for (const auto& port : opt.expose) {
    config.exposed_ports.push_back(port.find('/') == std::string::npos ? port + "/tcp" : port);
  }
  for (const auto& label : opt.labels) {
    auto eq = label.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error("--label " + label + ": expected KEY=VALUE", ErrorKind::Usage);
    }
    config.labels[label.substr(0, eq)] = label.substr(eq + 1);
  }
  return config;
}

// One image: `apps` slimmed against `source` (the image for their platform).
struct Slimmed {
  slim::SlimPlan plan;
  SlimOutput output;
};
Slimmed plan_binary(const BinaryOptions& opt, const Source& source, rootfs::OverlayRootFs& overlay,
                    const std::vector<std::string>& apps) {
  slim::SlimRequest request;
  fill_request(opt.slim, request);
  request.apps = apps;
  request.picks = opt.picks;
  request.dest = opt.dest;
  // The Env the image runs with, but for what presets add (none sets
  // LD_LIBRARY_PATH or TZ): the source's, then dslim's default, then the user's.
  request.env = slim::merge_env(slim::merge_env(source.env(), {kDefaultPath}), opt.slim.env);
  request.resolve = resolve_options(opt.slim.source, {});
  if (!opt.entrypoint.empty()) request.entrypoint = command_words(opt.entrypoint, "--entrypoint");
  request.cmd = command_words(opt.cmd, "--cmd");
  request.user = opt.user;
  request.workdir = opt.workdir;
  Slimmed out{slim::plan_image(request, overlay), {}};
  out.output.spec.config = container_config(opt, out.plan);
  const auto platform = elf::platform_of(out.plan.arch);
  out.output.spec.platform = {platform.os, platform.architecture, platform.variant};
  out.output.spec.epoch = source_date_epoch();
  out.output.spec.history_comment = "dslim binary";
  return out;
}

Source open_binary_source(const BinaryOptions& opt, const std::vector<std::string>& apps,
                          std::unique_ptr<rootfs::OverlayRootFs>& overlay) {
  Source source = open_source(opt.slim.source, apps);
  spdlog::trace("source {} opened", source.ref);
  overlay = std::make_unique<rootfs::OverlayRootFs>(*source.fs);
  overlay->set_max_symlink_hops(opt.slim.source.max_symlink_hops);
  return source;
}

// --multi-arch: each APP, a build of one program for a platform (its ELF
// header says which), slimmed against that platform of the source, and the
// images written under one index.
int run_multi_arch(const BinaryOptions& opt) {
  if (opt.apps.size() < 2)
    throw Error("--multi-arch takes two or more APPs, one build per platform", ErrorKind::Usage);
  if (!opt.slim.source.platform.empty())
    throw Error("--multi-arch takes each APP's platform from its ELF header; drop --platform",
                ErrorKind::Usage);
  const Reference dest = parse_reference(opt.slim.output);
  if (!holds_index(dest.transport))
    throw Error(dest.str() +
                    ": holds one image, not an index over several platforms; write to oci:, "
                    "oci-archive: or docker://",
                ErrorKind::Usage);
  std::vector<Image> images;
  std::vector<BuiltImage> built;
  // Each image's SBOMs, one file per platform (app.linux-arm64.spdx.json).
  std::vector<SbomOutputs> sboms;
  std::vector<Referrer> referrers;
  for (const auto& app : opt.apps) {
    std::unique_ptr<rootfs::OverlayRootFs> overlay;
    const Source source = open_binary_source(opt, {app}, overlay);
    Slimmed s = plan_binary(opt, source, *overlay, {app});
    built.push_back(build_slim_image(opt.slim, source, *overlay, s.plan, s.output));
    images.push_back(built.back().image);
    std::vector<std::string> names;
    for (const auto& file : opt.slim.sbom_out)
      names.push_back(platform_sbom_name(file, images.back().config.platform));
    sboms.push_back(
        build_sboms(opt.slim, names, s.plan, *overlay, dest, images.back(), s.output.spec.epoch));
    for (auto& r : sboms.back().referrers) referrers.push_back(std::move(r));
  }
  const ImageIndex index = build_index(std::move(images));
  const std::string written =
      write_index(index, dest, output_transport_options(opt.slim), referrers);
  for (auto& s : sboms) s.commit();
  if (opt.slim.report == "json") {
    nlohmann::json report = {{"output", dest.str()}, {"digest", written}};
    report["images"] = nlohmann::json::array();
    for (const auto& b : built) {
      auto one = summary_json(b.summary);
      one["platform"] = oci::to_string(b.image.config.platform);
      one["app"] = opt.apps[report["images"].size()];
      report["images"].push_back(one);
    }
    report["referrers"] = referrers_json(referrers);
    std::cout << report.dump(2) << "\n";
  } else if (!spdlog::should_log(spdlog::level::info)) {
    std::cout << written << "\n";
  } else {
    for (size_t i = 0; i < built.size(); ++i)
      std::cout << oci::to_string(built[i].image.config.platform) << " (" << opt.apps[i] << "):\n"
                << built[i].text_report;
    std::cout << "wrote " << dest.str() << " (" << written << "), an index over";
    for (const auto& b : built)
      std::cout << " " << oci::to_string(b.image.config.platform) << " "
                << b.image.manifest_blob.digest();
    std::cout << "\n";
    print_attached(referrers);
  }
  return 0;
}

int run_binary(const BinaryOptions& opt) {
  spdlog::trace("started");
  if (opt.multi_arch) return run_multi_arch(opt);
  std::unique_ptr<rootfs::OverlayRootFs> overlay;
  const Source source = open_binary_source(opt, opt.apps, overlay);
  Slimmed s = plan_binary(opt, source, *overlay, opt.apps);
  return write_slim_image(opt.slim, source, *overlay, s.plan, std::move(s.output));
}

}  // namespace

void add_binary_command(CLI::App& app, const GlobalOptions&, int& exit_code) {
  auto opt = std::make_shared<BinaryOptions>();
  auto* cmd = app.add_subcommand(
      "binary", "Build the smallest image that runs APP: the binary, its loader and libraries");
  cmd->footer(
      "Examples:\n"
      "  dslim binary ./app -o oci:./out:1.0\n"
      "  dslim binary ./app --from golang:alpine -o docker://registry.example.com/team/app:1.4\n"
      "  dslim binary ./app --from oci:./base:1.0 --platform linux/arm64 -o oci:./out:arm64\n"
      "  dslim binary ./app --from dir:./rootfs --with certs,tzdata -o oci-archive:app.tar\n"
      "  dslim binary ./server --with passwd,nss --user nonroot --expose 8080 -o "
      "docker-archive:img.tar:team/server:1.4\n"
      "  dslim binary --pick /usr/sbin/nginx --from dir:./rootfs --with passwd,tmp -o oci:./nginx\n"
      "  dslim binary ./app --add ./lib/libfoo.so.1:/app/lib/libfoo.so.1 --dest /app/bin/app -o "
      "oci:./out\n"
      "  dslim binary --pick /usr/bin/python3 --from oci:./debian --probe '-c \"import json\"' -o "
      "oci:./py\n"
      "  dslim binary ./server --probe-http 8080/healthz --cmd '[\"--port\", \"8080\"]' -o "
      "oci:./srv\n"
      "  dslim binary build/amd64/app build/arm64/app --multi-arch --from debian:12 -o "
      "docker://registry.example.com/team/app:1.4\n"
      "\n"
      "Multi-arch: with --multi-arch each APP is a build of the program for one\n"
      "platform (its ELF header says which); each becomes an image from that\n"
      "platform of --from (an image index), placed at --dest, and DEST gets an\n"
      "image index over them (oci:, oci-archive:, docker://).\n"
      "\n"
      "Placement: one APP goes to --dest (default /app); several go under --dest\n"
      "(default /usr/local/bin) by file name. The loader and every library land at\n"
      "the paths the source has them, symlink chains kept. A #! script brings its\n"
      "interpreter from the source. $ORIGIN paths are taken from the APP's place in\n"
      "the image, so put its own libraries next to it with --add.\n"
      "\n"
      "Presets (--with): certs (CA bundle, SSL_CERT_FILE), tzdata, passwd (root,\n"
      "nobody, nonroot 65532, and the source's system accounts, ids below 1000, such\n"
      "as www-data), nss (nsswitch.conf, /etc/hosts, /etc/services; glibc's\n"
      "NSS modules before 2.34), tmp (/tmp 1777), shell (/bin/sh and its libraries),\n"
      "gconv (every iconv module of glibc).\n"
      "\n"
      "Inferred needs: what the code imports adds what no ELF header names, and the\n"
      "report says why: getpwuid and kin -> passwd; getaddrinfo and kin -> nss; a TLS\n"
      "library (libssl, libgnutls, libmbedtls, libwolfssl) -> certs; pthread_cancel or\n"
      "pthread_exit -> libgcc_s.so.1 (glibc unwinds through it); iconv_open in a\n"
      "program -> the gconv modules of the charsets its literals name (a library's\n"
      "charset tables are not taken: --with gconv takes every module); a Go\n"
      "program's os/user, net resolver, crypto/x509 system roots, time.LoadLocation\n"
      "-> passwd, nss, certs, tzdata; TZ=Area/City in the Env -> that zone. ELF files\n"
      "taken with --add, --include or a preset bring their own libraries. dlopen in a\n"
      "program with library names among its literals is a warning naming them.\n"
      "--without passwd,certs drops some, --without all turns inference off.\n"
      "\n"
      "Symbols: the programs must be able to start on the source's libraries. A\n"
      "version a library lacks (GLIBC_2.34 from an older glibc) or a function no\n"
      "object defines is an error (exit 2, nothing written) naming the program, the\n"
      "symbol, the version and the library; --allow-missing-symbols makes it a\n"
      "warning. A symbol a library lacks is a warning (glibc binds it lazily).\n"
      "\n"
      "Probes (--probe ARGS): the entrypoint runs once per --probe, with ARGS, in a\n"
      "sandbox (user, mount, PID, IPC, UTS and network namespaces, loopback only) whose\n"
      "/ is the source with the APPs and --add files in place, over a scratch layer:\n"
      "nothing it writes reaches the source or this machine. Every file of the source\n"
      "it or its children open, execute, stat or read a link of goes into the image\n"
      "(with its libraries); directories it lists or writes into come as directories.\n"
      "An image source is written out to a temporary directory first. No sandbox\n"
      "here (user namespaces disabled and not root): exit 2, never run unconfined.\n"
      "\n"
      "Packages: the image holds the package database entries (dpkg's status, apk's\n"
      "installed) of exactly the source packages it keeps files of, and their\n"
      "copyright files, for scanners and licence notices (--no-package-metadata:\n"
      "neither). --sbom-out FILE.spdx.json or FILE.cdx.json writes an SPDX 2.3 or\n"
      "CycloneDX 1.5 SBOM: those packages with purls and licences, the APPs and\n"
      "other files of no package with their digests, the image by its digest.\n"
      "\n"
      "Outputs: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG],\n"
      "dir:DIR (the root filesystem, for debugging). The same inputs give the same\n"
      "digest; timestamps come from SOURCE_DATE_EPOCH (default 0). Files keep their\n"
      "modes and are written as root's (0:0; /home/nonroot 65532): a program's\n"
      "files on this machine are often a developer's. `dslim image` keeps the\n"
      "source image's owners instead.\n"
      "Image sources are cached ($XDG_CACHE_HOME/dslim): a second run over the same\n"
      "base image reads no layer blob (-v shows cache hits; --no-cache to bypass).\n"
      "Exit codes: 0 done, 1 usage, 2 bad input, missing library or symbol, 3 over\n"
      "--max-size, 4 registry or network.");
  add_program_options(cmd, opt->apps, opt->picks, opt->slim.source,
                      "Program(s) on this machine to put in the image");
  cmd->add_option("--dest", opt->dest, "Where APP goes in the image (see Placement)")
      ->type_name("PATH");
  cmd->add_option("--entrypoint", opt->entrypoint,
                  "Entrypoint: a path or a JSON array (default: the first APP)")
      ->type_name("CMD");
  cmd->add_option("--cmd", opt->cmd, "Cmd: a string or a JSON array")->type_name("CMD");
  cmd->add_option("--user", opt->user, "User to run as, e.g. nonroot or 65532:65532");
  cmd->add_option("--workdir", opt->workdir, "Working directory")->type_name("DIR");
  cmd->add_option("--expose", opt->expose, "Port to expose, e.g. 8080 or 53/udp (repeatable)")
      ->type_name("PORT");
  cmd->add_option("--label", opt->labels, "Image label (repeatable)")->type_name("K=V");
  cmd->add_flag("--multi-arch", opt->multi_arch,
                "The APPs are builds of one program for different platforms: one image each, "
                "from that platform of the source, under one image index");
  add_slim_options(cmd, opt->slim,
                   "Run the entrypoint with ARGS (shell words) in a sandbox over the source and "
                   "keep every file it touches (repeatable; \"\" for no arguments)");
  cmd->callback([opt, &exit_code] { exit_code = run_binary(*opt); });
}

}  // namespace dslim::cli
