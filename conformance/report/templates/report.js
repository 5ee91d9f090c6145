(function(){
  var only=document.getElementById('only-broken');
  only.addEventListener('change',function(){
    document.querySelectorAll('details.case').forEach(function(c){
      c.classList.toggle('hidden', only.checked && c.getAttribute('data-broken')!=='1')});
    document.querySelectorAll('details.feature').forEach(function(f){
      f.classList.toggle('hidden', only.checked && f.getAttribute('data-broken')!=='1')});
  });
  var hash=decodeURIComponent(location.hash.slice(1));
  if(hash){var d=document.getElementById(hash); if(d){d.open=true; if(d.parentElement && d.parentElement.tagName==='DETAILS'){d.parentElement.open=true} d.scrollIntoView({block:'start'})}}
  document.body.setAttribute('data-ready','1');
})();
