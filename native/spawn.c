/*
 * Starts a task's shell without forking node. child_process.spawn forks the
 * whole node process (libuv uses fork() on Linux), which costs the event loop
 * 0.7 ms or more per task, growing with node's memory; posix_spawn(3) starts
 * the child with vfork semantics in a fraction of that, whatever node's size.
 *
 * spawn(file, argv, envp, cwd, guardFd, callback) starts `file` in a new
 * session (setsid), every signal at its default and none blocked (node
 * ignores SIGPIPE; a task must not inherit that; glibc leaves its own two
 * internal real-time signals ignored), stdin /dev/null and stdout,
 * stderr to new pipes. Unless guardFd is -1 it then writes "+PID\n" to it at
 * once, from the same thread: the session guard (session-guard.ts) knows of
 * the session before node has even heard of it. It calls back with
 * (null, { pid, pidfd, stdout, stderr, announced }) (the pipes' read ends;
 * whether the guard got its line) or with (an Error with a code).
 *
 * The pidfd is opened as the child starts (a child whose pidfd cannot be
 * opened is killed: nothing would learn of its exit). onExit(pid, pidfd,
 * callback) calls callback(exit code, signal number) (-1 / 0 for the one that
 * does not apply; both when the status is lost) once the child has exited,
 * polling the pidfd on node's event loop; supported() says whether the kernel
 * has pidfds (Linux 5.3 and later).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <signal.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#define CHECK(env, call)                                           \
  do {                                                             \
    if ((call) != napi_ok) {                                       \
      napi_throw_error((env), NULL, "jobq_spawn: " #call " failed"); \
      return NULL;                                                 \
    }                                                              \
  } while (0)

/* A new C string with the value of a JS string, or NULL (a JS exception is pending). */
static char *string_of(napi_env env, napi_value value) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "jobq_spawn: expected a string");
    return NULL;
  }
  char *text = malloc(length + 1);
  if (text == NULL) {
    napi_throw_error(env, "ENOMEM", "jobq_spawn: out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, value, text, length + 1, &length);
  return text;
}

/* "ENOENT" for ENOENT, where the C library can name errors. */
static const char *errno_name(int code) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
  const char *name = strerrorname_np(code);
  return name == NULL ? "EUNKNOWN" : name;
#else
  return "EUNKNOWN";
#endif
}

static void free_strings(char **list) {
  if (list == NULL) return;
  for (char **item = list; *item != NULL; item++) free(*item);
  free(list);
}

/* A NULL-terminated copy of a JS array of strings, or NULL (a JS exception is pending). */
static char **strings_of(napi_env env, napi_value array) {
  uint32_t count;
  if (napi_get_array_length(env, array, &count) != napi_ok) {
    napi_throw_type_error(env, NULL, "jobq_spawn: expected an array of strings");
    return NULL;
  }
  char **list = calloc(count + 1, sizeof(char *));
  if (list == NULL) {
    napi_throw_error(env, "ENOMEM", "jobq_spawn: out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    if (napi_get_element(env, array, i, &item) != napi_ok || (list[i] = string_of(env, item)) == NULL) {
      free_strings(list);
      return NULL;
    }
  }
  return list;
}

static void throw_errno(napi_env env, const char *what, int code) {
  char message[512];
  snprintf(message, sizeof message, "%s: %s", what, strerror(code));
  napi_throw_error(env, errno_name(code), message);
}

/* Closes *fd unless it is -1, and marks it closed. */
static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* Stops a child that must not run unsupervised, and reaps it. */
static void kill_child(pid_t pid) {
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
}

/* One spawn, run on libuv's thread pool: posix_spawn waits until the child has exec'd. */
typedef struct {
  napi_async_work work;
  napi_ref callback;
  char *file, **argv, **envp, *cwd;
  pid_t pid;
  int pidfd; /* how the exit is learnt (onExit), -1 until the child runs */
  int out[2], err[2];
  int error; /* an errno, 0 once started */
  int guard_fd; /* where to announce the session, or -1 */
  bool announced;
} spawn_request;

/* Starts the child; returns 0 or an errno. */
static int start(spawn_request *request) {
  if (pipe2(request->out, O_CLOEXEC) != 0 || pipe2(request->err, O_CLOEXEC) != 0) return errno;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  int code = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (code == 0) code = posix_spawn_file_actions_adddup2(&actions, request->out[1], 1);
  if (code == 0) code = posix_spawn_file_actions_adddup2(&actions, request->err[1], 2);
  if (code == 0 && request->cwd != NULL) code = posix_spawn_file_actions_addchdir_np(&actions, request->cwd);
  if (code == 0) code = posix_spawnattr_setsigdefault(&attributes, &all);
  if (code == 0) code = posix_spawnattr_setsigmask(&attributes, &none);
  if (code == 0) {
    code = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  }
  if (code == 0) code = posix_spawn(&request->pid, request->file, &actions, &attributes, request->argv, request->envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  return code;
}

static void execute_spawn(napi_env env, void *data) {
  spawn_request *request = data;
  request->error = start(request);
  if (request->error == 0) {
    request->pidfd = (int)syscall(SYS_pidfd_open, request->pid, 0);
    if (request->pidfd < 0) {
      /* Without a pidfd nothing would learn of the child's exit (EMFILE, say): it must not run. */
      request->error = errno;
      kill_child(request->pid);
    }
  }
  close_fd(&request->out[1]);
  close_fd(&request->err[1]);
  if (request->error != 0) {
    close_fd(&request->out[0]);
    close_fd(&request->err[0]);
    return;
  }
  if (request->guard_fd >= 0) {
    char line[32];
    int length = snprintf(line, sizeof line, "+%d\n", (int)request->pid);
    request->announced = write(request->guard_fd, line, length) == length;
  }
}

static void free_request(napi_env env, spawn_request *request) {
  napi_delete_reference(env, request->callback);
  napi_delete_async_work(env, request->work);
  free(request->file);
  free_strings(request->argv);
  free_strings(request->envp);
  free(request->cwd);
  free(request);
}

static bool set_number(napi_env env, napi_value object, const char *name, double number) {
  napi_value value;
  return napi_create_double(env, number, &value) == napi_ok && napi_set_named_property(env, object, name, value) == napi_ok;
}

static bool set_announced(napi_env env, napi_value object, bool announced) {
  napi_value value;
  return napi_get_boolean(env, announced, &value) == napi_ok && napi_set_named_property(env, object, "announced", value) == napi_ok;
}

/* Back on the event loop: callback(error) or callback(null, { pid, pidfd, stdout, stderr, announced }). */
static void complete_spawn(napi_env env, napi_status status, void *data) {
  spawn_request *request = data;
  napi_value callback, receiver, argv[2];
  bool ready = status == napi_ok && napi_get_reference_value(env, request->callback, &callback) == napi_ok &&
               napi_get_global(env, &receiver) == napi_ok;
  if (ready && request->error != 0) {
    char text[512];
    snprintf(text, sizeof text, "spawn %s: %s", request->file, strerror(request->error));
    napi_value code, message;
    ready = napi_create_string_utf8(env, errno_name(request->error), NAPI_AUTO_LENGTH, &code) == napi_ok &&
            napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message) == napi_ok &&
            napi_create_error(env, code, message, &argv[0]) == napi_ok && napi_get_null(env, &argv[1]) == napi_ok;
  } else if (ready) {
    ready = napi_get_null(env, &argv[0]) == napi_ok && napi_create_object(env, &argv[1]) == napi_ok &&
            set_number(env, argv[1], "pid", request->pid) && set_number(env, argv[1], "pidfd", request->pidfd) &&
            set_number(env, argv[1], "stdout", request->out[0]) &&
            set_number(env, argv[1], "stderr", request->err[0]) && set_announced(env, argv[1], request->announced);
  }
  if (ready) {
    napi_call_function(env, receiver, callback, 2, argv, NULL);
  } else if (request->error == 0) {
    /* Nobody will read or watch the child: stop it rather than leave it unsupervised. */
    close_fd(&request->out[0]);
    close_fd(&request->err[0]);
    close_fd(&request->pidfd);
    kill_child(request->pid);
  }
  free_request(env, request);
}

/*
 * spawn(file, argv, envp, cwd, guardFd, callback): starts the child on the
 * thread pool, so that node's event loop does not wait for its exec.
 */
static napi_value spawn_session(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value args[6], name;
  napi_valuetype cwd_type;
  int32_t guard_fd;
  CHECK(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc < 6) {
    napi_throw_type_error(env, NULL, "jobq_spawn: spawn(file, argv, envp, cwd, guardFd, callback)");
    return NULL;
  }
  CHECK(env, napi_get_value_int32(env, args[4], &guard_fd));
  CHECK(env, napi_typeof(env, args[3], &cwd_type));
  spawn_request *request = calloc(1, sizeof *request);
  if (request == NULL) {
    napi_throw_error(env, "ENOMEM", "jobq_spawn: out of memory");
    return NULL;
  }
  request->out[0] = request->out[1] = request->err[0] = request->err[1] = request->pidfd = -1;
  request->guard_fd = guard_fd;
  request->file = string_of(env, args[0]);
  request->argv = request->file == NULL ? NULL : strings_of(env, args[1]);
  request->envp = request->argv == NULL ? NULL : strings_of(env, args[2]);
  if (request->envp != NULL && cwd_type == napi_string) request->cwd = string_of(env, args[3]);
  if (request->envp == NULL || (cwd_type == napi_string && request->cwd == NULL) ||
      napi_create_reference(env, args[5], 1, &request->callback) != napi_ok ||
      napi_create_string_utf8(env, "jobq:spawn", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute_spawn, complete_spawn, request, &request->work) != napi_ok ||
      napi_queue_async_work(env, request->work) != napi_ok) {
    free_request(env, request);
    return NULL;
  }
  return NULL;
}

/* One child whose exit is awaited: its pidfd, polled on node's event loop. */
typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  pid_t pid;
  int pidfd;
} exit_watch;

static void free_watch(uv_handle_t *handle) {
  exit_watch *watch = handle->data;
  close(watch->pidfd);
  free(watch);
}

/* The pidfd is readable: the child has exited. Reaps it and calls back with (code, signal). */
static void on_exit_ready(uv_poll_t *poll, int status, int events) {
  exit_watch *watch = poll->data;
  int wait_status = 0;
  pid_t waited;
  do waited = waitpid(watch->pid, &wait_status, WNOHANG);
  while (waited < 0 && errno == EINTR);
  if (waited == 0) return; /* not yet: a spurious wake-up */
  uv_poll_stop(poll);
  int exit_code = -1, signal_number = 0;
  if (waited > 0 && WIFEXITED(wait_status)) exit_code = WEXITSTATUS(wait_status);
  if (waited > 0 && WIFSIGNALED(wait_status)) signal_number = WTERMSIG(wait_status);
  napi_env env = watch->env;
  napi_handle_scope scope;
  napi_value callback, receiver, argv[2], result;
  napi_open_handle_scope(env, &scope);
  if (napi_get_reference_value(env, watch->callback, &callback) == napi_ok && napi_get_global(env, &receiver) == napi_ok &&
      napi_create_int32(env, exit_code, &argv[0]) == napi_ok && napi_create_int32(env, signal_number, &argv[1]) == napi_ok &&
      napi_make_callback(env, watch->context, receiver, callback, 2, argv, &result) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
  napi_delete_reference(env, watch->callback);
  napi_async_destroy(env, watch->context);
  uv_close((uv_handle_t *)poll, free_watch);
}

/*
 * onExit(pid, pidfd, callback): calls callback(code, signal) once the child
 * has exited, and reaps it; the watch owns the pidfd from spawn. Until then it
 * keeps the event loop alive, as a running child_process does.
 */
static napi_value watch_exit(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3], name;
  int32_t pid, pidfd;
  uv_loop_t *loop;
  CHECK(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  CHECK(env, napi_get_value_int32(env, args[0], &pid));
  CHECK(env, napi_get_value_int32(env, args[1], &pidfd));
  exit_watch *watch = calloc(1, sizeof *watch);
  if (watch == NULL) {
    close(pidfd);
    napi_throw_error(env, "ENOMEM", "jobq_spawn: out of memory");
    return NULL;
  }
  watch->env = env;
  watch->pid = pid;
  watch->pidfd = pidfd;
  watch->poll.data = watch;
  int code = napi_get_uv_event_loop(env, &loop) == napi_ok ? uv_poll_init(loop, &watch->poll, pidfd) : UV_EINVAL;
  if (code != 0) {
    free_watch((uv_handle_t *)&watch->poll);
    napi_throw_error(env, uv_err_name(code), uv_strerror(code));
    return NULL;
  }
  if (napi_create_string_utf8(env, "jobq:exit", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &watch->context) != napi_ok ||
      napi_create_reference(env, args[2], 1, &watch->callback) != napi_ok ||
      (code = uv_poll_start(&watch->poll, UV_READABLE, on_exit_ready)) != 0) {
    if (watch->callback != NULL) napi_delete_reference(env, watch->callback);
    if (watch->context != NULL) napi_async_destroy(env, watch->context);
    uv_close((uv_handle_t *)&watch->poll, free_watch);
    napi_throw_error(env, code == 0 ? NULL : uv_err_name(code), code == 0 ? "jobq_spawn: cannot watch the exit" : uv_strerror(code));
    return NULL;
  }
  return NULL;
}

/*
 * dup(fd): a copy of fd (close-on-exec) for spawn's guardFd, which the addon
 * writes to from the thread pool: node may close its own fd at any time (an
 * EPIPE destroys the stream), after which its number could be reused.
 * close(fd) closes such a copy.
 */
static napi_value dup_copy(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg, result;
  int32_t fd;
  CHECK(env, napi_get_cb_info(env, info, &argc, &arg, NULL, NULL));
  CHECK(env, napi_get_value_int32(env, arg, &fd));
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) {
    throw_errno(env, "dup", errno);
    return NULL;
  }
  CHECK(env, napi_create_int32(env, copy, &result));
  return result;
}

static napi_value close_copy(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  int32_t fd;
  CHECK(env, napi_get_cb_info(env, info, &argc, &arg, NULL, NULL));
  CHECK(env, napi_get_value_int32(env, arg, &fd));
  close(fd);
  return NULL;
}

/* supported(): whether this kernel has pidfd_open (Linux 5.3 and later), which onExit needs. */
static napi_value supported(napi_env env, napi_callback_info info) {
  int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
  if (pidfd >= 0) close(pidfd);
  napi_value result;
  CHECK(env, napi_get_boolean(env, pidfd >= 0, &result));
  return result;
}

NAPI_MODULE_INIT() {
  napi_value function;
  CHECK(env, napi_create_function(env, "spawn", NAPI_AUTO_LENGTH, spawn_session, NULL, &function));
  CHECK(env, napi_set_named_property(env, exports, "spawn", function));
  CHECK(env, napi_create_function(env, "onExit", NAPI_AUTO_LENGTH, watch_exit, NULL, &function));
  CHECK(env, napi_set_named_property(env, exports, "onExit", function));
  CHECK(env, napi_create_function(env, "dup", NAPI_AUTO_LENGTH, dup_copy, NULL, &function));
  CHECK(env, napi_set_named_property(env, exports, "dup", function));
  CHECK(env, napi_create_function(env, "close", NAPI_AUTO_LENGTH, close_copy, NULL, &function));
  CHECK(env, napi_set_named_property(env, exports, "close", function));
  CHECK(env, napi_create_function(env, "supported", NAPI_AUTO_LENGTH, supported, NULL, &function));
  CHECK(env, napi_set_named_property(env, exports, "supported", function));
  return exports;
}
