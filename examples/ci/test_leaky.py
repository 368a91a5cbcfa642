# A pytest suite with one test that leaks a process: `mptrace --check` names it.
import subprocess


def test_clean():
    subprocess.run(["sleep", "0.05"], check=True)


def test_leaks_a_server():
    subprocess.Popen(["sleep", "30"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_also_clean():
    assert subprocess.run(["true"]).returncode == 0
