import { ref } from "vue";
import { describeError } from "../../api/errors";

/**
 * An admin page's list load: `run` fetches and stores what the page shows; `loading` while it runs,
 * `loadError` the readable reason it failed (the page shows it instead of the list).
 */
export function usePageLoad(run: () => Promise<void>) {
  const loading = ref(false);
  const loadError = ref<string | null>(null);
  async function load() {
    loading.value = true;
    loadError.value = null;
    try {
      await run();
    } catch (err) {
      loadError.value = describeError(err);
    } finally {
      loading.value = false;
    }
  }
  return { loading, loadError, load };
}
