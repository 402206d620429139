// The device token in IndexedDB, where the service worker can read it to confirm a push
// arrived. sw.js reads the same database, store and key.

const DATABASE = "bleep";
const STORE = "device";
const KEY = "token";

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function write(change) {
  const database = await open();
  try {
    await new Promise((resolve, reject) => {
      const transaction = database.transaction(STORE, "readwrite");
      change(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error);
    });
  } finally {
    database.close();
  }
}

export function keepToken(token) {
  return write((store) => store.put(token, KEY));
}

export function forgetToken() {
  return write((store) => store.delete(KEY));
}
