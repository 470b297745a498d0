document.getElementById('app')?.append('hi');
